# written by lesson08-collapse (seed 0)
# edit and re-run: gnuplot knn.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "knn.png"
set title "k-NN@20 of each run's backbone after 1000 iterations (16000 train / 2000 test images)"
set xlabel ""
set ylabel "top-1 (%)"
set grid
set key outside right
set boxwidth 0.36
set xtics ("full DINO" 0, "centring\nonly" 1, "sharpening\nonly" 2, "no\nmomentum" 3, "τt = 0.02" 4, "τt = 0.08" 5)
set bmargin 4
set xrange [-0.6:5.6]
set yrange [0:100]
set key inside top right horizontal
set style textbox opaque noborder
plot "knn.dat" using ($1-0.18):3 with boxes fs solid 0.7 lc rgb "#1f4e9c" title "teacher", \
     "knn.dat" using ($1+0.18):4 with boxes fs solid 0.4 lc rgb "#6a9fd8" title "student", \
     "knn.dat" using 1:5 with lines dt 2 lw 2 lc rgb "#c0392b" title "random-init ViT", \
     "knn.dat" using 1:6 with lines dt 3 lw 2 lc rgb "#555555" title "chance (10%)", \
     "knn.dat" using ($1-0.18):3:(sprintf("%.1f", $3)) with labels offset 0,0.7 font ",9" boxed title "", \
     "knn.dat" using ($1+0.18):4:(sprintf("%.1f", $4)) with labels offset 0,0.7 font ",9" boxed title ""
