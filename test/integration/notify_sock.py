#!/usr/bin/python3
"""The service manager's end of systemd's notification protocol, for the
integration tests: a unix datagram socket like the one systemd passes in
NOTIFY_SOCKET. Standard library only.

  notify_sock.py PATH PORT
      binds PATH, prints "bound" and then one line per datagram:
      "PID KEY=VALUE|KEY=VALUE..." (PID: the sender, from the kernel's
      credentials). On READY=1 it stops the sender (SIGSTOP: a daemon that
      said READY=1 too early gets no time to open its listener before the
      check), tries a TCP connection to 127.0.0.1:PORT, prints
      "READY=1: port PORT open" (or "refused") and lets the sender go on
      (SIGCONT).
"""
import os
import signal
import socket
import struct
import sys


def sender_pid(ancdata):
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid, _uid, _gid = struct.unpack("iII", data[:12])
            return pid
    return 0


def port_open(port):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, port = sys.argv[1], int(sys.argv[2])
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    sock.bind(path)
    print("bound", flush=True)
    cred_size = socket.CMSG_SPACE(struct.calcsize("iII"))
    while True:
        data, ancdata, _flags, _addr = sock.recvmsg(4096, cred_size)
        pid = sender_pid(ancdata)
        fields = data.decode("utf-8", "replace").strip("\n").split("\n")
        print(f"{pid} " + "|".join(fields), flush=True)
        if "READY=1" in fields and pid > 0:
            os.kill(pid, signal.SIGSTOP)
            try:
                state = "open" if port_open(port) else "refused"
                print(f"READY=1: port {port} {state}", flush=True)
            finally:
                os.kill(pid, signal.SIGCONT)


if __name__ == "__main__":
    try:
        main()
    except (KeyboardInterrupt, BrokenPipeError):
        pass
