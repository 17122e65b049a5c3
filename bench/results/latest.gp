set terminal pngcairo size 1500,860 font 'DejaVu Sans,11'
set output '/work/wt-bench/bench/results/latest.png'
set datafile missing '-'
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.9 border -1
set logscale y
set grid ytics
set key outside right top vertical font ',9'
set multiplot layout 2,2 title 'atomicwrite vs alternatives, latest run: median per replace, bars min–max, lower is better (log scale)'
set title '4 KiB file replaced, durable'
set ylabel 'µs per replace'
plot '/work/wt-bench/bench/results/latest-small.dat' using 2:3:4:xtic(1) title 'atomicwrite' lc rgb '#c0392b', '/work/wt-bench/bench/results/latest-small.dat' using 5:6:7 title 'atomicwrite CLI' lc rgb '#e8968c', '/work/wt-bench/bench/results/latest-small.dat' using 8:9:10 title 'minimal C' lc rgb '#2c3e50', '/work/wt-bench/bench/results/latest-small.dat' using 11:12:13 title 'GLib' lc rgb '#2980b9', '/work/wt-bench/bench/results/latest-small.dat' using 14:15:16 title 'renameio' lc rgb '#16a085', '/work/wt-bench/bench/results/latest-small.dat' using 17:18:19 title 'python-atomicwrites' lc rgb '#f1c40f', '/work/wt-bench/bench/results/latest-small.dat' using 20:21:22 title 'write-file-atomic' lc rgb '#8e44ad', '/work/wt-bench/bench/results/latest-small.dat' using 23:24:25 title 'atomically' lc rgb '#c39bd3'
set title '4 KiB file replaced, not durable (no fsync)'
set ylabel 'µs per replace'
plot '/work/wt-bench/bench/results/latest-small-nosync.dat' using 2:3:4:xtic(1) title 'atomicwrite' lc rgb '#c0392b', '/work/wt-bench/bench/results/latest-small-nosync.dat' using 5:6:7 title 'atomicwrite CLI' lc rgb '#e8968c', '/work/wt-bench/bench/results/latest-small-nosync.dat' using 8:9:10 title 'minimal C' lc rgb '#2c3e50', '/work/wt-bench/bench/results/latest-small-nosync.dat' using 11:12:13 title 'write-file-atomic' lc rgb '#8e44ad', '/work/wt-bench/bench/results/latest-small-nosync.dat' using 14:15:16 title 'atomically' lc rgb '#c39bd3', '/work/wt-bench/bench/results/latest-small-nosync.dat' using 17:18:19 title 'sponge' lc rgb '#d35400'
set title 'one 256 MiB file replaced, durable (streamed where the API can)'
set ylabel 'ms per replace'
plot '/work/wt-bench/bench/results/latest-large-256M.dat' using 2:3:4:xtic(1) title 'atomicwrite' lc rgb '#c0392b', '/work/wt-bench/bench/results/latest-large-256M.dat' using 5:6:7 title 'atomicwrite CLI' lc rgb '#e8968c', '/work/wt-bench/bench/results/latest-large-256M.dat' using 8:9:10 title 'minimal C' lc rgb '#2c3e50', '/work/wt-bench/bench/results/latest-large-256M.dat' using 11:12:13 title 'plain write+fsync' lc rgb '#7f8c8d', '/work/wt-bench/bench/results/latest-large-256M.dat' using 14:15:16 title 'GLib' lc rgb '#2980b9', '/work/wt-bench/bench/results/latest-large-256M.dat' using 17:18:19 title 'renameio' lc rgb '#16a085', '/work/wt-bench/bench/results/latest-large-256M.dat' using 20:21:22 title 'python-atomicwrites' lc rgb '#f1c40f', '/work/wt-bench/bench/results/latest-large-256M.dat' using 23:24:25 title 'write-file-atomic' lc rgb '#8e44ad', '/work/wt-bench/bench/results/latest-large-256M.dat' using 26:27:28 title 'atomically' lc rgb '#c39bd3'
set title 'one 1024 MiB file replaced, durable (streamed where the API can)'
set ylabel 'ms per replace'
plot '/work/wt-bench/bench/results/latest-large-1024M.dat' using 2:3:4:xtic(1) title 'atomicwrite' lc rgb '#c0392b', '/work/wt-bench/bench/results/latest-large-1024M.dat' using 5:6:7 title 'atomicwrite CLI' lc rgb '#e8968c', '/work/wt-bench/bench/results/latest-large-1024M.dat' using 8:9:10 title 'minimal C' lc rgb '#2c3e50', '/work/wt-bench/bench/results/latest-large-1024M.dat' using 11:12:13 title 'plain write+fsync' lc rgb '#7f8c8d', '/work/wt-bench/bench/results/latest-large-1024M.dat' using 14:15:16 title 'GLib' lc rgb '#2980b9', '/work/wt-bench/bench/results/latest-large-1024M.dat' using 17:18:19 title 'renameio' lc rgb '#16a085', '/work/wt-bench/bench/results/latest-large-1024M.dat' using 20:21:22 title 'python-atomicwrites' lc rgb '#f1c40f', '/work/wt-bench/bench/results/latest-large-1024M.dat' using 23:24:25 title 'write-file-atomic' lc rgb '#8e44ad', '/work/wt-bench/bench/results/latest-large-1024M.dat' using 26:27:28 title 'atomically' lc rgb '#c39bd3'
unset multiplot
