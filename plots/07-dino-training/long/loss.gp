# written by dino train (config default, seed 0)
# edit and re-run: gnuplot loss.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "loss.png"
set title "DINO loss (ln K = uniform collapse)"
set xlabel "iteration"
set ylabel "cross-entropy (nats)"
set grid
set key outside right
plot "loss.dat" using 1:2 with lines lc rgb '#b0c4de' title "loss", \
     "loss.dat" using 1:3 with lines lw 2 lc rgb '#1f4e9c' title "loss (EMA 0.98)", \
     "loss.dat" using 1:4 with lines dt 2 lc rgb 'gray' title "ln K"
