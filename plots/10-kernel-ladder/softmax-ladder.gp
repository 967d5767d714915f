# written by lesson10-kernel-ladder (seed 137)
# edit and re-run: gnuplot softmax-ladder.gp (from this folder)
set terminal pngcairo size 1100,580 noenhanced font "Sans,11"
set output "softmax-ladder.png"
set title "Softmax ladder: 256×4096, τ = 0.04, GB/s = 8 bytes per element / median time (AMD EPYC)"
set xlabel ""
set ylabel "GB/s (4 bytes read + 4 written per element)"
set grid
set key outside right
set style fill solid 0.85 border -1
set boxwidth 0.7
set xtics ("0 reference\n(Double)" 0, "1 naive\nlibm exp" 1, "2 fused\nno division" 2, "3 SIMD8\n+ exp8" 3, "4 shipped\n1 thread" 4, "4 shipped\n2 threads" 5) font ",9"
set xrange [-0.6:5.6]
set yrange [0:48.10501621982848]
set grid noxtics ytics
set key inside top center horizontal
set bmargin 4
set style textbox opaque noborder
plot "softmax-ladder.dat" index 0 using 1:($3==1?$2:1/0) with boxes lc rgb "#4477aa" title "1 thread", \
     "softmax-ladder.dat" index 0 using 1:($3>1?$2:1/0) with boxes lc rgb "#cc6677" title "2 threads", \
     "softmax-ladder.dat" index 1 using 1:4 with lines dt 2 lw 2 lc rgb "#4477aa" title "copy x to p, 1 thread: 34.0", \
     "softmax-ladder.dat" index 1 using 1:5 with lines dt 2 lw 2 lc rgb "#cc6677" title "copy x to p, 2 threads: 37.0", \
     "softmax-ladder.dat" index 0 using 1:2:(sprintf("%.2f", $2)) with labels boxed offset 0,0.8 font ",9" title ""
