package metrics

import "github.com/prometheus/client_golang/prometheus"

// family is one declared metric: its name, help text, type and label names.
type family struct {
	name   string
	labels []string
	kind   prometheus.ValueType
	desc   *prometheus.Desc
	// histogram: its series are name_bucket (with le), name_sum and
	// name_count.
	histogram bool
}

// newFamily declares the metric name with its help text and label names.
func newFamily(name, help string, kind prometheus.ValueType, labels ...string) *family {
	return &family{
		name:   name,
		labels: labels,
		kind:   kind,
		desc:   prometheus.NewDesc(name, help, labels, nil),
	}
}

// counter declares a counter.
func counter(name, help string, labels ...string) *family {
	return newFamily(name, help, prometheus.CounterValue, labels...)
}

// gauge declares a gauge.
func gauge(name, help string, labels ...string) *family {
	return newFamily(name, help, prometheus.GaugeValue, labels...)
}

// histogram declares a histogram (exported from bucket counts kept by its
// source: prometheus.NewConstHistogram); its kind is unused.
func histogram(name, help string, labels ...string) *family {
	f := newFamily(name, help, prometheus.UntypedValue, labels...)
	f.histogram = true
	return f
}
