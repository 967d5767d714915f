# written by lesson08-collapse (seed 0)
# edit and re-run: gnuplot information.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "information.png"
set title "What the trained teacher's output says about the image: h(mean P_t) − mean h(P_t) on test images"
set xlabel ""
set ylabel "information (nats)"
set grid
set key outside right
set boxwidth 0.6
set xtics ("full DINO" 0, "centring\nonly" 1, "sharpening\nonly" 2, "no\nmomentum" 3, "τt = 0.02" 4, "τt = 0.08" 5)
set bmargin 4
set xrange [-0.6:5.6]
set yrange [0:*]
plot "information.dat" using 1:2 with boxes fs solid 0.7 lc rgb "#7b3294" title "", \
     "information.dat" using 1:2:(sprintf("%.3f", $2)) with labels offset 0,0.8 title ""
