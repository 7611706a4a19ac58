// Package metrics defines torget's Prometheus metrics on a registry of
// its own (no global state).
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the counters and histograms torget exports at /metrics.
type Metrics struct {
	Registry     *prometheus.Registry
	Deliveries   *prometheus.CounterVec   // result: delivered, retry, gone, failed
	DeliveryTime prometheus.Histogram     // seconds per attempt
	Inbox        *prometheus.CounterVec   // type, verdict
	InboxApplied *prometheus.CounterVec   // type, status
	HTTPDuration *prometheus.HistogramVec // method, route, code
}

// New creates and registers the metrics.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "torget_deliveries_total", Help: "Delivery attempts by result (delivered, retry, gone, failed)."}, []string{"result"}),
		DeliveryTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "torget_delivery_seconds", Help: "Duration of one delivery attempt.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}),
		Inbox: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "torget_inbox_activities_total", Help: "Inbox POSTs by activity type and verdict (accepted, duplicate, refused_4xx)."}, []string{"type", "verdict"}),
		InboxApplied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "torget_inbox_applied_total", Help: "Stored inbox activities applied, by type and outcome."}, []string{"type", "status"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "torget_http_request_duration_seconds", Help: "HTTP request latency by route.", Buckets: prometheus.DefBuckets},
			[]string{"method", "route", "code"}),
	}
	r.MustRegister(m.Deliveries, m.DeliveryTime, m.Inbox, m.InboxApplied, m.HTTPDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// GaugeFunc registers a gauge computed at scrape time (queue depth).
func (m *Metrics) GaugeFunc(name, help string, labels prometheus.Labels, fn func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels}, fn))
}
