# written by dino bench kernels --threads 1,2 (median of 9 runs) on AMD EPYC
# edit and re-run: gnuplot kernels.gp (from this folder)
set terminal pngcairo size 1500,1100 noenhanced font "Sans,10"
set output "kernels.png"
set multiplot layout 2,1 title "Kernels at small-ViT step shapes (AMD EPYC)"
set grid ytics
set style fill solid 0.7
set key top left
set xtics rotate by 50 right font ",8" ("matmul nt 4160x192x576" 0, "matmul nn 4160x576x192" 1, "matmul tn 576x4160x192" 2, "matmul nt 4160x192x768" 3, "matmul nn 4160x768x192" 4, "matmul tn 768x4160x192" 5, "matmul nt 4160x768x192" 6, "matmul nn 4160x192x768" 7, "matmul tn 192x4160x768" 8, "matmul nt 4160x64x192" 9, "matmul nn 4160x192x64" 10, "matmul tn 192x4160x64" 11, "matmul nt 4160x64x256" 12, "matmul nn 4160x256x64" 13, "matmul tn 256x4160x64" 14, "matmul nt 4160x256x64" 15, "matmul nn 4160x64x256" 16, "matmul tn 64x4160x256" 17, "matmul nn 64x64x64" 18, "matmul nt 64x64x64" 19, "matmul tn 64x64x64" 20, "matmul nn 128x128x128" 21, "matmul nt 128x128x128" 22, "matmul tn 128x128x128" 23, "matmul nn 256x256x256" 24, "matmul nt 256x256x256" 25, "matmul tn 256x256x256" 26, "matmul nn 512x512x512" 27, "matmul nt 512x512x512" 28, "matmul tn 512x512x512" 29, "matmul nn 1024x1024x1024" 30, "matmul nt 1024x1024x1024" 31, "matmul tn 1024x1024x1024" 32, "softmax 4160x1024" 33, "logSoftmax 4160x1024" 34, "rowEntropy 512x1024" 35, "softmaxCrossEntropy 1024x2048" 36, "layerNorm 4160x192" 37, "layerNormBackward 4160x192" 38, "gelu 4160x768" 39, "geluBackward 4160x768" 40, "add 4160x192" 41, "axpy 4160x192" 42, "l2Normalize 512x256" 43, "columnSums 4160x576" 44, "rowSums 4160x576" 45, "emaUpdate 1024x1024" 46, "adamWStep 1024x1024" 47)
set xrange [-1:48]
set boxwidth 0.4
set bmargin 10
set title "SIMD core GFLOP/s (matmuls; FP32 peak ~115 per core)"
set ylabel "GFLOP/s"
set yrange [0:*]
plot "kernels.dat" using ($1+-0.2):2 with boxes title "1 thread", "kernels.dat" using ($1+0.2):3 with boxes title "2 threads"
set title "Speed-up of the SIMD core over the reference core (1 thread)"
set ylabel "speed-up (x, log scale)"
set logscale y
set yrange [1:*]
set boxwidth 0.6
plot "kernels.dat" using 1:4 with boxes lc rgb "#3060a0" notitle
unset multiplot
