# written by lesson10-kernel-ladder (seed 137)
# edit and re-run: gnuplot matmul-ladder.gp (from this folder)
set terminal pngcairo size 1100,580 noenhanced font "Sans,11"
set output "matmul-ladder.png"
set title "Matmul ladder: C = A·B at 512³, GFLOP/s = 2·N³ / median time (AMD EPYC, 8-float vectors)"
set xlabel ""
set ylabel "GFLOP/s"
set grid
set key outside right
set style fill solid 0.85 border -1
set boxwidth 0.7
set xtics ("0 reference\n(Double)" 0, "1 naive\ni-j-k" 1, "2 loop order\ni-k-j" 2, "3 cache\nblocks" 3, "4 SIMD8\n+ FMA" 4, "5 6x16\nregister tile" 5, "6 packed\npanels" 6, "7 packed\n2 threads" 7, "8 shipped\n1 thread" 8, "8 shipped\n2 threads" 9) font ",9"
set xrange [-0.6:9.6]
set yrange [0:118.62882191789153]
set grid noxtics ytics
set key inside top center horizontal
set bmargin 4
set style textbox opaque noborder
plot "matmul-ladder.dat" index 0 using 1:($3==1?$2:1/0) with boxes lc rgb "#4477aa" title "1 thread", \
     "matmul-ladder.dat" index 0 using 1:($3>1?$2:1/0) with boxes lc rgb "#cc6677" title "2 threads", \
     "matmul-ladder.dat" index 1 using 1:4 with lines dt 2 lw 2 lc rgb "#4477aa" title "FMA peak, 1 thread: 91.3", \
     "matmul-ladder.dat" index 1 using 1:5 with lines dt 2 lw 2 lc rgb "#cc6677" title "FMA peak, 2 threads: 74.5", \
     "matmul-ladder.dat" index 0 using 1:2:(sprintf("%.1f", $2)) with labels boxed offset 0,0.8 font ",9" title ""
