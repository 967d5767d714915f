# written by dino train (config default, seed 0)
# edit and re-run: gnuplot collapse.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "collapse.png"
set title "Collapse monitors: teacher entropy h(Pt) and KL(Pt || Ps)"
set xlabel "iteration"
set ylabel "nats"
set grid
set key outside right
plot "collapse.dat" using 1:2 with lines lw 2 title "h(Pt)", \
     "collapse.dat" using 1:3 with lines lw 2 title "KL(Pt || Ps)", \
     "collapse.dat" using 1:4 with lines dt 2 lc rgb 'gray' title "ln K (uniform)"
