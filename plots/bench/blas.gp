# written by dino bench blas --threads 1,2 (median of 15 interleaved samples, 3 rounds) on AMD EPYC
# edit and re-run: gnuplot blas.gp (from this folder)
set terminal pngcairo size 1500,700 noenhanced font "Sans,10"
set output "blas.png"
set title "SIMD core matmul / OpenBLAS 0.3.31.188.0, SkylakeX kernel, same process, interleaved (AMD EPYC)"
set grid ytics
set style fill solid 0.7
set key top right
set bmargin 10
set xtics rotate by 50 right font ",8" ("nt 4160x192x576" 0, "nn 4160x576x192" 1, "tn 576x4160x192" 2, "nt 4160x192x768" 3, "nn 4160x768x192" 4, "tn 768x4160x192" 5, "nt 4160x768x192" 6, "nn 4160x192x768" 7, "tn 192x4160x768" 8, "nt 4160x64x192" 9, "nn 4160x192x64" 10, "tn 192x4160x64" 11, "nt 4160x64x256" 12, "nn 4160x256x64" 13, "tn 256x4160x64" 14, "nt 4160x256x64" 15, "nn 4160x64x256" 16, "tn 64x4160x256" 17, "nn 64x64x64" 18, "nt 64x64x64" 19, "tn 64x64x64" 20, "nn 128x128x128" 21, "nt 128x128x128" 22, "tn 128x128x128" 23, "nn 256x256x256" 24, "nt 256x256x256" 25, "tn 256x256x256" 26, "nn 512x512x512" 27, "nt 512x512x512" 28, "tn 512x512x512" 29, "nn 1024x1024x1024" 30, "nt 1024x1024x1024" 31, "tn 1024x1024x1024" 32)
set xrange [-1:33]
set boxwidth 0.4
set ylabel "GFLOP/s ratio SIMD / OpenBLAS"
set yrange [0:1.6]
set arrow from -1,0.9 to 33,0.9 nohead dt 2 lc rgb "#3060a0"
set arrow from -1,0.85 to 33,0.85 nohead dt 3 lc rgb "#d08020"
set label "targets: 0.9 (1 thread), 0.85 (2 threads)" at -0.5,1.52 left
plot "blas.dat" using ($1+-0.2):2 with boxes lc rgb "#3060a0" title "1 thread", "blas.dat" using ($1+-0.2):2:5:6 with yerrorbars lc rgb "#202020" pt 0 notitle, "blas.dat" using ($1+0.2):7 with boxes lc rgb "#d08020" title "2 threads", "blas.dat" using ($1+0.2):7:10:11 with yerrorbars lc rgb "#202020" pt 0 notitle
