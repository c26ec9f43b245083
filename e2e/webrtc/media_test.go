package e2e

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// The synthetic media: one second of 20 ms Opus-sized audio frames and
// 25 frames per second of video large enough to take several RTP packets
// each.
const (
	mediaTicks     = 50
	mediaTick      = 20 * time.Millisecond
	audioFrameSize = 160
	videoFrameSize = 3000
	videoEvery     = 2 // ticks per video frame
	// minAudioPackets and minVideoPackets are what the receiver must get:
	// four fifths of the 50 audio packets and of the 75 or more video
	// packets sent, so that a lost datagram does not fail the test while
	// a path that relays little or nothing does.
	minAudioPackets = 40
	minVideoPackets = 60
)

// senders are the local tracks of the offerer.
type senders struct {
	audio, video *webrtc.TrackLocalStaticSample
}

// addTracks adds an Opus audio track and a VP8 video track to p.
func addTracks(t *testing.T, p *peer) *senders {
	t.Helper()
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "e2e")
	if err != nil {
		t.Fatal(err)
	}
	video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "e2e")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []webrtc.TrackLocal{audio, video} {
		if _, err := p.pc.AddTrack(tr); err != nil {
			t.Fatal(err)
		}
	}
	return &senders{audio: audio, video: video}
}

// send writes the synthetic media in real time.
func (s *senders) send(ctx context.Context, t *testing.T) {
	t.Helper()
	tick := time.NewTicker(mediaTick)
	defer tick.Stop()
	audio, video := make([]byte, audioFrameSize), make([]byte, videoFrameSize)
	for i := range mediaTicks {
		audio[0], video[0] = byte(i), byte(i)
		if err := s.audio.WriteSample(media.Sample{Data: audio, Duration: mediaTick}); err != nil {
			t.Fatalf("audio sample %d: %v", i, err)
		}
		if i%videoEvery == 0 {
			if err := s.video.WriteSample(media.Sample{Data: video, Duration: videoEvery * mediaTick}); err != nil {
				t.Fatalf("video frame %d: %v", i, err)
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("sending media: %v", context.Cause(ctx))
		}
	}
}

// sink counts the RTP packets that p receives on its remote tracks.
type sink struct {
	packets [2]atomic.Int64 // by kind: audio, video
	bytes   atomic.Int64    // RTP header and payload, all tracks
	enough  chan struct{}   // closed when both kinds reached their minimum
	once    sync.Once
}

// receiveMedia reads every remote track of p until the PeerConnection
// closes.
func receiveMedia(p *peer) *sink {
	s := &sink{enough: make(chan struct{})}
	p.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		kind := 0
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			kind = 1
		}
		go func() {
			for {
				pkt, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				s.packets[kind].Add(1)
				s.bytes.Add(int64(pkt.MarshalSize()))
				if s.packets[0].Load() >= minAudioPackets && s.packets[1].Load() >= minVideoPackets {
					s.once.Do(func() { close(s.enough) })
				}
			}
		}()
	})
	return s
}

// wait returns the RTP packets and bytes received once both tracks got
// their minimum, failing the test if ctx ends first.
func (s *sink) wait(ctx context.Context, t *testing.T) (packets, bytes int64) {
	t.Helper()
	select {
	case <-s.enough:
	case <-ctx.Done():
		t.Fatalf("received %d audio and %d video RTP packets, want at least %d and %d: %v",
			s.packets[0].Load(), s.packets[1].Load(), minAudioPackets, minVideoPackets, context.Cause(ctx))
	}
	return s.packets[0].Load() + s.packets[1].Load(), s.bytes.Load()
}
