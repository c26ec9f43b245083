// Package shipped builds the commands of the shipped module,
// github.com/avedge/avedge, for the tests of the e2e module that run them
// as processes. It builds them in that module, with its go.mod and go.sum,
// so that a test runs the binary that ships and not a build with the e2e
// module's dependency graph.
package shipped
