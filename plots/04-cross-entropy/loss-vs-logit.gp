# written by lesson04-cross-entropy (seed 137)
# edit and re-run: gnuplot loss-vs-logit.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "loss-vs-logit.png"
set title "One image, 3 classes: the loss as the student's first logit moves (s1 = 0.125, s2 = 0)"
set xlabel "student logit s0"
set ylabel "nats"
set grid
set key outside right
set y2tics
set ytics nomirror
set y2label "gradient"
set yrange [0:14]
set y2range [-8:3.2]
set key below
set arrow from 0.2500, graph 0 to 0.2500, graph 1 nohead dt 3
set label "P_s = P_t" at 0.2500, graph 0.92 left offset 0.5,0
plot "loss-vs-logit.dat" using 1:2 with lines lw 2 title "H(P_t, P_s) = loss", \
     "loss-vs-logit.dat" using 1:3 with lines dt 2 lw 2 title "h(P_t): the floor", \
     "loss-vs-logit.dat" using 1:4 with lines lw 2 title "KL(P_t ‖ P_s) = H - h", \
     "loss-vs-logit.dat" using 1:5 with lines lw 1.5 axes x1y2 title "∂H/∂s0 = (P_s0 - P_t0)/τs (right axis)"
