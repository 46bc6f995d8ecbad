# Latency percentiles per contender (bench/report.py writes the data files and calls this).
#   gnuplot -e "c1='a.dat'; rate='b.dat'; stream='c.dat'; n1=6; n2=6; n3=5; out='latency.png'" latency.gp
# Each data file: a header "percentile <contender>...", then one row per percentile, in us;
# n1..n3 are the files' column counts.
set terminal pngcairo size 1500,520 font "sans,10"
set output out
set multiplot layout 1,3 title "sluice bench: latency percentiles (us, log scale; measured from the intended send time)"
set logscale y
set grid ytics mytics
set ylabel "us"
set key top left
set style data linespoints
set pointsize 1.2
# direct, nginx, sluice-empty, sluice-default, sluice-default-nolog: distinct at a glance
set linetype 1 lc rgb "#222222"
set linetype 2 lc rgb "#d62728"
set linetype 3 lc rgb "#1f77b4"
set linetype 4 lc rgb "#ff7f0e"
set linetype 5 lc rgb "#2ca02c"

set title "chat completion, c=1 (closed loop)"
plot for [i=2:n1] c1 using i:xtic(1) title columnheader(i) lw 2

set title "chat completion, fixed rate (open loop)"
plot for [i=2:n2] rate using i:xtic(1) title columnheader(i) lw 2

set title "stream: time to first byte, fixed rate"
plot for [i=2:n3] stream using i:xtic(1) title columnheader(i) lw 2

unset multiplot
