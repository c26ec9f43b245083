package offload

import (
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf"
)

// DefaultSnapshotEvery is how often Open's Loader reads every channel's
// counters into a new Snapshot when Options.SnapshotEvery is zero.
const DefaultSnapshotEvery = time.Second

// snapshotBatch is how many entries one BPF_MAP_LOOKUP_BATCH reads: a
// table of 65536 channels costs 64 system calls per map. A hash map's
// batch must hold its fullest bucket (ENOSPC otherwise), which a few
// entries do.
const snapshotBatch = 1024

// snapshot is a Snapshot of the Loader's two maps.
type snapshot struct {
	seq      uint64
	toPeer   map[offloadClientKey]Flow
	toClient map[offloadPeerKey]Flow
}

// Seq implements Snapshot.
func (s *snapshot) Seq() uint64 { return s.seq }

// Counters implements Snapshot.
func (s *snapshot) Counters(c Channel) (Counters, bool) {
	up, ok := s.toPeer[clientKey(c)]
	if !ok {
		return Counters{}, false
	}
	down, ok := s.toClient[peerKey(c)]
	if !ok {
		return Counters{}, false
	}
	return Counters{ToPeer: up, ToClient: down}, true
}

// Snapshot returns the latest snapshot of every channel's counters, read
// every Options.SnapshotEvery by one goroutine of the Loader; the last one
// read stays after Close.
func (l *Loader) Snapshot() Snapshot { return l.snap.Load() }

// snapshotReader reads the maps into snapshots, reusing its buffers.
type snapshotReader struct {
	// iterate is set once the kernel refused BPF_MAP_LOOKUP_BATCH (Linux
	// before 5.6): the maps are then walked key by key, two system calls
	// an entry, still on the reader's goroutine only.
	iterate bool
	ck      []offloadClientKey
	tp      []offloadToPeerValue
	pk      []offloadPeerKey
	tc      []offloadToClientValue
	// live, when not nil, collects the destinations of the entries read
	// (each entry's egress interface and the address it sends to), for
	// the XDP hook's next hops.
	live map[offloadHopKey]bool
}

func newSnapshotReader() *snapshotReader {
	return &snapshotReader{
		ck: make([]offloadClientKey, snapshotBatch), tp: make([]offloadToPeerValue, snapshotBatch),
		pk: make([]offloadPeerKey, snapshotBatch), tc: make([]offloadToClientValue, snapshotBatch),
	}
}

// snapshots publishes a snapshot now and then every every, until stop is
// closed; it closes done when it returns. A failing read keeps the last
// snapshot and is logged once as a warning until a read succeeds. With
// the XDP hook, each read also refreshes the next hops (see nextHops):
// the entries read name the destinations still in use.
func (l *Loader) snapshots(every time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	r := newSnapshotReader()
	t := time.NewTicker(every)
	defer t.Stop()
	failing, hopsFailing := false, false
	for {
		prev := l.snap.Load()
		var epoch uint64
		if l.hops != nil {
			r.live = make(map[offloadHopKey]bool, 2*len(prev.toPeer))
			epoch = l.hops.begin()
		}
		s, err := r.read(&l.objs, prev.seq+1, len(prev.toPeer))
		if err == nil && l.hops != nil {
			herr := l.hops.refresh(r.live, epoch)
			switch {
			case herr != nil && !hopsFailing:
				l.log.Warn("offload: refreshing the next hops failed: packets to new neighbours go to user space until it succeeds", "err", herr)
			case herr == nil && hopsFailing:
				l.log.Info("offload: refreshing the next hops again")
			}
			hopsFailing = herr != nil
		}
		switch {
		case err != nil && !failing:
			l.log.Warn("offload: reading the counters failed: they stay as last read until a read succeeds", "err", err)
		case err != nil:
			l.log.Debug("offload: reading the counters", "err", err)
		case failing:
			l.log.Info("offload: reading the counters again")
		}
		failing = err != nil
		if err == nil {
			l.snap.Store(s)
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// read reads both maps of objs into a snapshot numbered seq, sized for n
// channels.
func (r *snapshotReader) read(objs *offloadObjects, seq uint64, n int) (*snapshot, error) {
	s := &snapshot{seq: seq, toPeer: make(map[offloadClientKey]Flow, n), toClient: make(map[offloadPeerKey]Flow, n)}
	err := readFlows(objs.ToPeer, &r.iterate, r.ck, r.tp, s.toPeer, func(v *offloadToPeerValue) Flow {
		if r.live != nil {
			r.live[offloadHopKey{Ifindex: v.Ifindex, Addr: v.PeerAddr}] = true
		}
		return Flow{Packets: v.Packets, Bytes: v.Bytes}
	})
	if err != nil {
		return nil, fmt.Errorf("offload: to_peer: %w", err)
	}
	err = readFlows(objs.ToClient, &r.iterate, r.pk, r.tc, s.toClient, func(v *offloadToClientValue) Flow {
		if r.live != nil {
			r.live[offloadHopKey{Ifindex: v.Ifindex, Addr: v.ClientAddr}] = true
		}
		return Flow{Packets: v.Packets, Bytes: v.Bytes}
	})
	if err != nil {
		return nil, fmt.Errorf("offload: to_client: %w", err)
	}
	return s, nil
}

// readFlows reads the flow of every entry of m into into: by batches of
// len(keys) unless *iterate, and key by key when the kernel has no batch
// lookup (setting *iterate). keys and vals are the batch buffers.
func readFlows[K comparable, V any](m *ebpf.Map, iterate *bool, keys []K, vals []V, into map[K]Flow, flow func(*V) Flow) error {
	if !*iterate {
		var cursor ebpf.MapBatchCursor
		for {
			n, err := m.BatchLookup(&cursor, keys, vals, nil)
			if errors.Is(err, ebpf.ErrNotSupported) {
				*iterate = true
				clear(into)
				break
			}
			if err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				return err
			}
			for i := range n {
				into[keys[i]] = flow(&vals[i])
			}
			if err != nil {
				return nil // ErrKeyNotExist: the last batch
			}
		}
	}
	var k K
	var v V
	it := m.Iterate()
	for it.Next(&k, &v) {
		into[k] = flow(&v)
	}
	return it.Err()
}
