# written by lesson04-cross-entropy (seed 137)
# edit and re-run: gnuplot loss-surface.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "loss-surface.png"
set title "H(P_t, P_s) over the student's logits (s0, s1, s2 = 0); teacher t = (0.3, 0.25, 0.2), τt 0.04"
set xlabel "student logit s0"
set ylabel "student logit s1"
set grid
set key outside right
set logscale cb
set cblabel "H (nats)"
set xrange [-1:1]
set yrange [-1:1]
set size ratio -1
unset key
set label "minimum: P_s = P_t" at 0.2500, 0.1250 left offset 1.5,-1.2 front tc rgb "#ffffff"
set palette defined (0 '#0d0887', 1 '#7e03a8', 2 '#cc4778', 3 '#f89540', 4 '#f0f921')
plot "loss-surface.dat" index 0 using 1:2:3 with image title "H (nats, log colour scale)", \
     "loss-surface.dat" index 1 using 1:2 with points pt 6 ps 2.2 lw 3 lc rgb "#ffffff" title "", \
     "loss-surface.dat" index 1 using 1:2 with points pt 7 ps 0.7 lc rgb "#000000" title ""
