# written by lesson07-dino-training (seed 0)
# edit and re-run: gnuplot loss.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "loss.png"
set title "DINO loss per iteration (ln K = uniform collapse)"
set xlabel "iteration"
set ylabel "cross-entropy (nats)"
set grid
set key outside right
set style textbox opaque noborder
set arrow from 117, graph 0 to 117, graph 1 nohead dt 2 lw 1.5 lc rgb '#b03a2e' front
set label "last layer released (iteration 117)" at 117, graph 0.98 right rotate by 90 offset 0.9,0 tc rgb '#b03a2e' front boxed
set arrow from 234, graph 0 to 234, graph 1 nohead dt 2 lw 1.5 lc rgb '#555555' front
set label "lr warm-up ends (iteration 234)" at 234, graph 0.98 right rotate by 90 offset 0.9,0 tc rgb '#555555' front boxed
set key inside bottom right
plot "loss.dat" using 1:2 with lines lc rgb '#b0c4de' title "loss", \
     "loss.dat" using 1:3 with lines lw 2 lc rgb '#1f4e9c' title "loss (EMA 0.98)", \
     "loss.dat" using 1:4 with lines dt 2 lc rgb 'gray' title "ln K"
