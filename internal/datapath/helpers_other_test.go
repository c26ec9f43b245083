//go:build !linux

package datapath

// testPaths are the data paths of this system: the portable one only.
var testPaths = []path{{name: "portable", portable: true}}
