# written by lesson02-temperature (seed 137)
# edit and re-run: gnuplot probabilities-vs-tau.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "probabilities-vs-tau.png"
set title "softmax(z/τ) of z = [0.9, 0.7, 0.4, 0.1, -0.3] against τ"
set xlabel "temperature τ (log scale)"
set ylabel "probability"
set grid
set key outside right
set logscale x
set arrow from 0.04, graph 0 to 0.04, graph 1 nohead dt 2 lc rgb "#555555"
set arrow from 0.07, graph 0 to 0.07, graph 1 nohead dt 2 lc rgb "#555555"
set arrow from 0.1, graph 0 to 0.1, graph 1 nohead dt 3 lc rgb "#aa0000"
set label "τt 0.04-0.07" at 0.036, graph 0.95 right
set label "τs 0.1" at 0.11, graph 0.95 left
set xrange [0.01:10]
set yrange [0:1]
plot "probabilities-vs-tau.dat" using 1:2 with lines lw 2 title "p(z=0.9)", \
     "probabilities-vs-tau.dat" using 1:3 with lines lw 2 title "p(z=0.7)", \
     "probabilities-vs-tau.dat" using 1:4 with lines lw 2 title "p(z=0.4)", \
     "probabilities-vs-tau.dat" using 1:5 with lines lw 2 title "p(z=0.1)", \
     "probabilities-vs-tau.dat" using 1:6 with lines lw 2 title "p(z=-0.3)"
