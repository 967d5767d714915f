# written by lesson09-emerging-properties (seed 0)
# edit and re-run: gnuplot jaccard-per-head.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "jaccard-per-head.png"
set title "Jaccard of each head's 60%-mass attention with the object mask (10000 test scenes)"
set xlabel "head of the last block"
set ylabel "Jaccard (%)"
set grid
set key outside right
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set yrange [0:50]
set arrow from graph 0, first 25.064 to graph 1, first 25.064 nohead dt 2 lc rgb 'gray'
set label 'dashed line: a centred square, no model (25.06)' at graph 0.02, graph 0.95 tc rgb 'gray40'
plot "jaccard-per-head.dat" using 2:xtic(1) with histogram title "random-init ViT", \
     "jaccard-per-head.dat" using 3 with histogram title "supervised ViT", \
     "jaccard-per-head.dat" using 4 with histogram title "DINO student", \
     "jaccard-per-head.dat" using 5 with histogram title "DINO teacher"
