# written by dino bench train --config tiny,tiny_p7,lesson,default --threads 1,2 (median of 10 steps)
# edit and re-run: gnuplot train.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "train.png"
set title "DINO training step throughput, SIMD core (AMD EPYC)"
set xlabel "config"
set ylabel "images / s"
set grid
set key outside right
set xtics ("tiny" 0, "tiny_p7" 1, "lesson" 2, "default" 3)
set boxwidth 0.2
set style fill solid 0.7
set yrange [0:*]
set xrange [-0.6:3.6]
plot "train.dat" using ($1+-0.30000000000000004):2 with boxes title "images per s 1t", \
     "train.dat" using ($1+-0.1):3 with boxes title "images per s 2t", \
     "train.dat" using ($1+0.1):4 with boxes title "with data 1t", \
     "train.dat" using ($1+0.30000000000000004):5 with boxes title "with data 2t"
