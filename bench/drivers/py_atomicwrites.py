#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Benchmark driver for python-atomicwrites (Debian's python3-atomicwrites):
atomic_write(overwrite=True), which fsyncs the file and the directory.  It
has no non-durable mode.  Same contract as bench/drivers/driver.h."""
import sys
import time

from atomicwrites import atomic_write

CHUNK = 1 << 20


def contents(n):
    pattern = bytes(ord('a') + i % 23 for i in range(23))
    return (pattern * (n // 23 + 1))[:n]


def main():
    mode, directory, n, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if mode == "small-nosync":
        sys.exit("driver: python-atomicwrites has no non-durable mode")
    if mode == "large":
        buf = contents(CHUNK)
        start = time.monotonic_ns()
        with atomic_write(directory + "/big", mode="wb", overwrite=True) as f:
            done = 0
            while done < size:
                want = min(size - done, CHUNK)
                f.write(buf[:want])
                done += want
    else:
        buf = contents(size)
        start = time.monotonic_ns()
        for i in range(n):
            with atomic_write("%s/f%05d" % (directory, i), mode="wb", overwrite=True) as f:
                f.write(buf)
    print((time.monotonic_ns() - start) // 1000)


main()
