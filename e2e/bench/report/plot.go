package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// panel is one bar chart: one bar per server, the median of a figure.
type panel struct {
	load, title string
	get         func(Record) *float64
	// scale converts the figure to the unit of the title.
	scale float64
}

// panels are drawn left to right when their load was measured.
// Titles are ASCII: the plot's font has no other characters.
var panels = []panel{
	{"audio", "audio: CPU us/packet", func(r Record) *float64 { return r.Result.CPUPerPacket }, 1},
	{"audio", "audio: p99 latency us", func(r Record) *float64 { return r.Result.Latency.P99 }, 1},
	{"maxrate", "maxrate: pkt/s, loss<=0.1%", relayedPPS, 1},
	{"video", "video: CPU us/packet", func(r Record) *float64 { return r.Result.CPUPerPacket }, 1},
	{"churn", "churn: allocations/s", func(r Record) *float64 { return r.Result.AllocationsPerS }, 1},
	{"idle", "idle: KiB/allocation", perAllocation, 1.0 / 1024},
}

// palette colours servers in the order they appear.
var palette = []struct {
	name string
	c    color.RGBA
}{
	{"blue", color.RGBA{0x1f, 0x77, 0xb4, 0xff}},
	{"orange", color.RGBA{0xff, 0x7f, 0x0e, 0xff}},
	{"green", color.RGBA{0x2c, 0xa0, 0x2c, 0xff}},
	{"grey", color.RGBA{0x7f, 0x7f, 0x7f, 0xff}},
	{"purple", color.RGBA{0x94, 0x67, 0xbd, 0xff}},
	{"brown", color.RGBA{0x8c, 0x56, 0x4b, 0xff}},
}

const (
	panelW, panelH = 220, 200
	margin         = 20
	barGap         = 8
	// titleH is the band above each panel for its title and the band
	// below the panels for the legend; labelH is the room for a value
	// above its bar.
	titleH = 24
	labelH = 14
)

// face is the plot's font: 7×13 pixels, ASCII.
var face = basicfont.Face7x13

// active returns the panels whose load is present.
func active(res *Results) []panel {
	var ps []panel
	for _, p := range panels {
		if _, ok := res.Runs[p.load]; ok {
			ps = append(ps, p)
		}
	}
	return ps
}

// plotPanels names the panels, left to right.
func plotPanels(res *Results) []string {
	var names []string
	for _, p := range active(res) {
		names = append(names, p.title)
	}
	return names
}

// legend names each server's colour.
func legend(res *Results) string {
	var parts []string
	for i, s := range res.Servers {
		parts = append(parts, fmt.Sprintf("%s %s", s, palette[i%len(palette)].name))
	}
	return strings.Join(parts, ", ")
}

// writePlot draws one panel per measured figure; each panel's bars are
// scaled to its largest median and a thin black line marks min–max.
func writePlot(w io.Writer, res *Results) error {
	ps := active(res)
	width := margin + max(len(ps), 1)*(panelW+margin)
	img := image.NewRGBA(image.Rect(0, 0, width, titleH+panelH+margin+titleH))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for i, p := range ps {
		x0 := margin + i*(panelW+margin)
		text(img, x0, titleH-8, p.title, color.RGBA{0, 0, 0, 0xff})
		drawPanel(img, image.Rect(x0, titleH, x0+panelW, titleH+panelH), res, p)
	}
	// The legend: a swatch and the name of each server.
	x, y := margin, titleH+panelH+margin+10
	for i, s := range res.Servers {
		fill(img, image.Rect(x, y-9, x+10, y+1), palette[i%len(palette)].c)
		text(img, x+14, y, s, color.RGBA{0, 0, 0, 0xff})
		x += 14 + len(s)*face.Advance + 2*margin
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("report: png: %w", err)
	}
	return nil
}

func drawPanel(img *image.RGBA, r image.Rectangle, res *Results, p panel) {
	frame := color.RGBA{0xcc, 0xcc, 0xcc, 0xff}
	fill(img, image.Rect(r.Min.X, r.Max.Y, r.Max.X, r.Max.Y+1), frame)
	fill(img, image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Max.Y), frame)
	spreads := make([]Spread, len(res.Servers))
	oks := make([]bool, len(res.Servers))
	top := 0.0
	for i, s := range res.Servers {
		spreads[i], oks[i] = spread(res.Runs[p.load][s], p.get)
		if oks[i] {
			top = max(top, spreads[i].Max)
		}
	}
	if top <= 0 || len(res.Servers) == 0 {
		return
	}
	barW := (r.Dx() - barGap*(len(res.Servers)+1)) / len(res.Servers)
	plotH := float64(r.Dy() - labelH)
	y := func(v float64) int { return r.Max.Y - int(plotH*max(v, 0)/top) }
	for i := range res.Servers {
		if !oks[i] {
			continue
		}
		x := r.Min.X + barGap + i*(barW+barGap)
		fill(img, image.Rect(x, y(spreads[i].Median), x+barW, r.Max.Y), palette[i%len(palette)].c)
		mid := x + barW/2
		fill(img, image.Rect(mid, y(spreads[i].Max), mid+1, y(spreads[i].Min)+1), color.RGBA{0, 0, 0, 0xff})
		label := compact(spreads[i].Median * p.scale)
		text(img, mid-len(label)*face.Advance/2, y(spreads[i].Max)-3, label, color.RGBA{0x33, 0x33, 0x33, 0xff})
	}
}

// compact formats v in at most about 6 characters: 9.72, 2523, 117.6k.
func compact(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// text draws s with its baseline at (x, y).
func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(img, r, &image.Uniform{C: c}, image.Point{}, draw.Src)
}
