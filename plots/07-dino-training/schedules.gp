# written by lesson07-dino-training (seed 0)
# edit and re-run: gnuplot schedules.gp (from this folder)
set terminal pngcairo size 1000,740 noenhanced font "Sans,11"
set output "schedules.png"
set multiplot layout 2,2 title "Schedules of the run, per iteration: each on its own axis"
# panel 1
set title "learning rate: linear warm-up, then cosine"
set xlabel "iteration"
set ylabel "lr"
set grid
unset key
set style textbox opaque noborder
set arrow from 234, graph 0 to 234, graph 1 nohead dt 2 lw 1.5 lc rgb '#555555' front
set label "lr warm-up ends (iteration 234)" at 234, graph 0.98 right rotate by 90 offset 0.9,0 tc rgb '#555555' front boxed
set yrange [0:*]
set format y "%.0e"
plot "schedules.dat" using 1:2 with lines lw 2 lc rgb '#1f4e9c' title "lr"
reset
# panel 2
set title "weight decay: cosine up"
set xlabel "iteration"
set ylabel "weight decay"
set grid
unset key
set yrange [0:*]
plot "schedules.dat" using 1:3 with lines lw 2 lc rgb '#2e8b57' title "weight decay"
reset
# panel 3
set title "teacher momentum λ: cosine up to 1 (axis from 0.99)"
set xlabel "iteration"
set ylabel "λ"
set grid
unset key
set format y "%.4f"
plot "schedules.dat" using 1:4 with lines lw 2 lc rgb '#7b3294' title "λ"
reset
# panel 4
set title "teacher temperature τt (per epoch) and the student's τs"
set xlabel "iteration"
set ylabel "temperature"
set grid
unset key
set style textbox opaque noborder
set arrow from graph 0, first 0.100000001 to graph 1, first 0.100000001 nohead dt 2 lw 1.5 lc rgb '#555555' front
set label "student τs 0.1" at graph 0.01, first 0.100000001 left offset 0,0.7 tc rgb '#555555' front boxed
set yrange [0:0.125]
plot "schedules.dat" using 1:5 with lines lw 2 lc rgb '#d35400' title "τt"
unset multiplot
