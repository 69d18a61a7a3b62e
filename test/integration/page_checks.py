"""What the status page tests share: a failed check ends the test with
its reason, commands go to a simulator through its fifo."""


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")


def sim_command(fifo, cmd):
    with open(fifo, "w") as f:
        f.write(cmd + "\n")
