#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""summarize.py OUT TAG - turns OUT/TAG.tsv (one line per run, written by
bench/run.sh) into OUT/TAG.md (tables of medians with min-max and the ratio
of each alternative to our library) and OUT/TAG.png (the same as a chart,
drawn by gnuplot)."""
import collections
import os
import statistics
import subprocess
import sys

LABELS = {
    "aw": "atomicwrite, library",
    "aw-cli": "atomicwrite CLI (one process per file)",
    "minimal": "minimal C protocol",
    "plain": "plain write+fsync in place (not atomic)",
    "glib": "GLib g_file_set_contents_full",
    "renameio": "Go renameio v2",
    "python-atomicwrites": "python-atomicwrites",
    "write-file-atomic": "npm write-file-atomic (sync API)",
    "atomically": "npm atomically (sync API)",
    "sponge": "sponge (moreutils, one process per file)",
}
SHORT = {
    "aw": "atomicwrite", "aw-cli": "atomicwrite CLI", "minimal": "minimal C",
    "plain": "plain write+fsync", "glib": "GLib", "renameio": "renameio",
    "python-atomicwrites": "python-atomicwrites",
    "write-file-atomic": "write-file-atomic", "atomically": "atomically",
    "sponge": "sponge",
}
COLORS = {
    "aw": "#c0392b", "aw-cli": "#e8968c", "minimal": "#2c3e50",
    "plain": "#7f8c8d", "glib": "#2980b9", "renameio": "#16a085",
    "python-atomicwrites": "#f1c40f", "write-file-atomic": "#8e44ad",
    "atomically": "#c39bd3", "sponge": "#d35400",
}
# What each alternative does not do, for the notes under the tables.
CAVEATS = {
    "renameio": "fsyncs the file, never the directory",
    "write-file-atomic": "fsyncs the file, never the directory",
    "atomically": "fsyncs the file, never the directory",
    "sponge": "no fsync at all",
    "plain": "not atomic: a crash leaves a torn file",
}
FS_ORDER = ["ext4", "xfs", "btrfs", "tmpfs"]


def workload_title(w):
    if w == "small":
        return "4 KiB file replaced, durable"
    if w == "small-nosync":
        return "4 KiB file replaced, not durable (no fsync)"
    if w.startswith("large-"):
        return "one %s file replaced, durable (streamed where the API can)" % w[6:].replace("M", " MiB")
    return w


def main():
    out, tag = sys.argv[1], sys.argv[2]
    runs = collections.defaultdict(list)   # (workload, alt, fs) -> [us per op]
    order = collections.OrderedDict()       # workload -> [alt...] in run order
    loads = collections.defaultdict(list)  # (workload, fs) -> [load1 at each run]
    fss = []
    with open(os.path.join(out, tag + ".tsv")) as f:
        next(f)
        for line in f:
            fields = line.rstrip("\n").split("\t")
            fs, w, alt, rep, n, size, us = fields[:7]
            runs[(w, alt, fs)].append(float(us) / int(n))
            if len(fields) > 7:
                loads[(w, fs)].append(float(fields[7]))
            order.setdefault(w, [])
            if alt not in order[w]:
                order[w].append(alt)
            if fs not in fss:
                fss.append(fs)
    fss.sort(key=lambda x: FS_ORDER.index(x) if x in FS_ORDER else 99)
    with open(os.path.join(out, tag + ".meta")) as f:
        meta = f.read().strip()
    log_path = os.path.join(out, tag + ".log")
    load = open(log_path).read().strip() if os.path.exists(log_path) else ""

    md = ["# atomicwrite benchmark: %s run" % tag, "", "```", meta, "```", "",
          "Method: every alternative has a driver (bench/drivers/) that does the same work:",
          "replace each of N existing files of 4 KiB in one directory once (or one large file,",
          "written in 1 MiB chunks where the API streams), timing only that loop, not its own",
          "start-up.  The command-line tools (our CLI, sponge) are started once per file by a",
          "small C spawner reading the new contents from a file on /tmp, so their figures include",
          "a fork+exec each.  The runs are interleaved: each repetition runs every alternative",
          "once, starting one further along the list (A B C, B C A, ...), with a syncfs of the",
          "filesystem before each run so no run pays for another's writeback.  Figures are the",
          "median over the repetitions of (run time / N), with the fastest and slowest",
          "repetition in brackets; the ratio is the alternative's median over our library's",
          "median (above 1: we are faster).  Lower is better.",
          "",
          "The machine was shared with other jobs (2 cores); load averages while measuring:",
          "", "```", load, "```", ""]
    if loads:
        md += ["1-minute load average at the start of each run, lowest–highest:", "",
               "| | " + " | ".join(fss) + " |", "|---|" + "---|" * len(fss)]
        for w in order:
            md.append("| %s | %s |" % (workload_title(w), " | ".join(
                "%.1f–%.1f" % (min(loads[(w, fs)]), max(loads[(w, fs)])) if loads.get((w, fs)) else "–"
                for fs in fss)))
        md.append("")
    stats = {}
    for w, alts in order.items():
        large = w.startswith("large-")
        unit = "ms" if large else "µs"
        scale = 1000.0 if large else 1.0
        md.append("## %s: median %s per replace (min–max), ratio to atomicwrite" % (workload_title(w), unit))
        md.append("")
        md.append("| | " + " | ".join(fss) + " |")
        md.append("|---|" + "---|" * len(fss))
        for alt in alts:
            cells = []
            for fs in fss:
                v = runs.get((w, alt, fs))
                ref = runs.get((w, "aw", fs))
                if not v:
                    cells.append("–")
                    continue
                med = statistics.median(v)
                stats[(w, alt, fs)] = (med / scale, min(v) / scale, max(v) / scale)
                fmt = "%.0f" if med / scale >= 10 else "%.1f"
                cell = (fmt + " (" + fmt + "–" + fmt + ")") % (med / scale, min(v) / scale, max(v) / scale)
                if ref and alt != "aw":
                    cell += " **%.2f×**" % (med / statistics.median(ref))
                cells.append(cell)
            md.append("| %s | %s |" % (LABELS.get(alt, alt), " | ".join(cells)))
        notes = ["%s: %s" % (SHORT[a], CAVEATS[a]) for a in alts if a in CAVEATS]
        if large:
            notes.append("GLib, write-file-atomic and atomically cannot stream: they get the whole file as one buffer")
        if notes:
            md.append("")
            md.append("Not the same guarantee: " + "; ".join(notes) + ".")
        md.append("")
    md.append("![chart](%s.png)" % tag)
    md.append("")
    with open(os.path.join(out, tag + ".md"), "w") as f:
        f.write("\n".join(md))
    compact(out, tag, order, fss, runs)
    chart(out, tag, order, fss, stats)


def compact(out, tag, order, fss, runs):
    """OUT/TAG-summary.md: medians and ratios only, for the README."""
    md = []
    for w, alts in order.items():
        large = w.startswith("large-")
        scale = 1000.0 if large else 1.0
        md.append("**%s**, median %s per replace (ratio to atomicwrite):" % (workload_title(w), "ms" if large else "µs"))
        md.append("")
        md.append("| | " + " | ".join(fss) + " |")
        md.append("|---|" + "---|" * len(fss))
        for alt in alts:
            cells = []
            for fs in fss:
                v, ref = runs.get((w, alt, fs)), runs.get((w, "aw", fs))
                if not v:
                    cells.append("–")
                    continue
                med = statistics.median(v) / scale
                cell = ("%.0f" if med >= 10 else "%.1f") % med
                if ref and alt != "aw":
                    cell += " (%.2f×)" % (statistics.median(v) / statistics.median(ref))
                cells.append(cell)
            md.append("| %s | %s |" % (LABELS.get(alt, alt), " | ".join(cells)))
        md.append("")
    with open(os.path.join(out, tag + "-summary.md"), "w") as f:
        f.write("\n".join(md))


def chart(out, tag, order, fss, stats):
    panels = list(order.items())
    script = [
        "set terminal pngcairo size 1500,%d font 'DejaVu Sans,11'" % (430 * ((len(panels) + 1) // 2)),
        "set output '%s'" % os.path.join(out, tag + ".png"),
        "set datafile missing '-'",
        "set style data histograms",
        "set style histogram errorbars gap 1 lw 1",
        "set style fill solid 0.9 border -1",
        "set logscale y",
        "set grid ytics",
        "set key outside right top vertical font ',9'",
        "set multiplot layout %d,2 title 'atomicwrite vs alternatives, %s run: median per replace, bars min–max, lower is better (log scale)'"
        % ((len(panels) + 1) // 2, tag),
    ]
    for w, alts in panels:
        large = w.startswith("large-")
        data = os.path.join(out, "%s-%s.dat" % (tag, w))
        with open(data, "w") as f:
            for fs in fss:
                row = [fs]
                for alt in alts:
                    s = stats.get((w, alt, fs))
                    row += ["%.4g" % x for x in s] if s else ["-", "-", "-"]
                f.write(" ".join(row) + "\n")
        script.append("set title '%s'" % workload_title(w))
        script.append("set ylabel '%s per replace'" % ("ms" if large else "µs"))
        plots = []
        for i, alt in enumerate(alts):
            c = 2 + 3 * i
            plots.append("'%s' using %d:%d:%d%s title '%s' lc rgb '%s'"
                         % (data, c, c + 1, c + 2, ":xtic(1)" if i == 0 else "",
                            SHORT.get(alt, alt), COLORS.get(alt, "#999999")))
        script.append("plot " + ", ".join(plots))
    script.append("unset multiplot")
    gp = os.path.join(out, tag + ".gp")
    with open(gp, "w") as f:
        f.write("\n".join(script) + "\n")
    subprocess.run(["gnuplot", gp], check=True)


main()
