package main

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/avedge/avedge/internal/sessions"
)

// printSessions writes list as a table; ages are reckoned at now.
func printSessions(w io.Writer, list []sessions.Session, now time.Time) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "no live sessions")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tIDENTITY\tDIALECT\tTRANSPORT\tCLIENT\tRELAYED\tPEERS\tAGE\tTO PEER\tTO CLIENT")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%v\t%s\t%s\n",
			printable(s.ID), printable(s.Identity), printable(s.Dialect), printable(s.Transport),
			s.Client, addrList(s.Relayed), len(s.Peers), max(now.Sub(s.Start), 0).Round(time.Second),
			humanBytes(s.ToPeerBytes), humanBytes(s.ToClientBytes))
	}
	return tw.Flush()
}

// printRevocations writes list as a table.
func printRevocations(w io.Writer, list []sessions.Revocation) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "no revocations")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "IDENTITY\tREVOKED AT\tUNTIL")
	for _, r := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", printable(r.Identity), r.At.UTC().Format(time.RFC3339), untilText(r.Until))
	}
	return tw.Flush()
}

// untilText is a revocation's Until as the command prints it.
func untilText(until time.Time) string {
	if until.IsZero() {
		return "lifted"
	}
	return until.UTC().Format(time.RFC3339)
}

// addrList joins addresses with commas; "-" for none.
func addrList(addrs []netip.AddrPort) string {
	if len(addrs) == 0 {
		return "-"
	}
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

// humanBytes writes n in decimal units: 512 B, 1.2 kB, 3.4 MB.
func humanBytes(n uint64) string {
	if n < 1000 {
		return strconv.FormatUint(n, 10) + " B"
	}
	units := []string{"kB", "MB", "GB", "TB", "PB", "EB"}
	v, i := float64(n)/1000, 0
	for v >= 999.95 && i < len(units)-1 {
		v /= 1000
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
}

// printable returns s, or s quoted when it holds characters that are not
// printable (which could move a terminal's cursor).
func printable(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	return strconv.QuoteToGraphic(s)
}
