# written by lesson02-temperature (seed 137)
# edit and re-run: gnuplot entropy-vs-tau.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "entropy-vs-tau.png"
set title "Entropy of softmax(z/τ) against τ (5 logits)"
set xlabel "temperature τ (log scale)"
set ylabel "entropy h (nats)"
set grid
set key outside right
set logscale x
set arrow from 0.04, graph 0 to 0.04, graph 1 nohead dt 2 lc rgb "#555555"
set arrow from 0.07, graph 0 to 0.07, graph 1 nohead dt 2 lc rgb "#555555"
set arrow from 0.1, graph 0 to 0.1, graph 1 nohead dt 3 lc rgb "#aa0000"
set label "τt 0.04-0.07" at 0.036, graph 0.95 right
set label "τs 0.1" at 0.11, graph 0.95 left
set xrange [0.01:10]
set yrange [0:1.80]
plot "entropy-vs-tau.dat" using 1:2 with lines lw 2 title "h(softmax(z/τ))", \
     "entropy-vs-tau.dat" using 1:3 with lines dt 2 lw 1 title "ln K (uniform)"
