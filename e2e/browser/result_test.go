package browser

// pageResult is what window.avedgeRun reports (page.js), as driver.mjs
// prints it.
type pageResult struct {
	Scenario  string   `json:"scenario"`
	Transport string   `json:"transport"`
	OK        bool     `json:"ok"`
	Error     string   `json:"error"`
	URLs      []string `json:"urls"`
	// RelayCandidates counts the relay candidates gathered, by connection
	// ("pc1", "pc2").
	RelayCandidates map[string]int `json:"relayCandidates"`
	// Failed tells, by connection, whether its ICE or connection state
	// was ever "failed".
	Failed map[string]bool `json:"failed"`
	// ICEErrors are the icecandidateerror events.
	ICEErrors []iceError `json:"iceErrors"`
	// ICEConnectionState and ConnectionState are the connections' states
	// when the page reported, by connection; ICEStates their changes in
	// order ("pc1 ice checking @71", "pc1 connection failed @74": ms since
	// the connections were made).
	ICEConnectionState map[string]string `json:"iceConnectionState"`
	ConnectionState    map[string]string `json:"connectionState"`
	ICEStates          []string          `json:"iceStates"`
	// Selected is pc1's selected candidate pair, SelectedPC2 pc2's.
	Selected    *candidatePair `json:"selected"`
	SelectedPC2 *candidatePair `json:"selectedPc2"`
	// TransportBytes is what each connection's transport sent and
	// received over all its candidate pairs, by connection.
	TransportBytes map[string]byteCount `json:"transportBytes"`
	// UsedPairs are each connection's candidate pairs that carried bytes,
	// by connection.
	UsedPairs map[string][]candidatePair `json:"usedPairs"`
	Data      *dataResult                `json:"data"`
	Call      *callResult                `json:"call"`
	// Media is pc2's inbound-rtp counters by kind ("audio", "video").
	Media map[string]rtpCount `json:"media"`
}

// candidatePair is a selected candidate pair from getStats().
type candidatePair struct {
	State           string     `json:"state"`
	Nominated       bool       `json:"nominated"`
	Local           *candidate `json:"local"`
	Remote          *candidate `json:"remote"`
	BytesSent       uint64     `json:"bytesSent"`
	BytesReceived   uint64     `json:"bytesReceived"`
	PacketsSent     uint64     `json:"packetsSent"`
	PacketsReceived uint64     `json:"packetsReceived"`
}

// candidate is an ICE candidate from getStats().
type candidate struct {
	CandidateType string `json:"candidateType"`
	Address       string `json:"address"`
	Port          int    `json:"port"`
	Protocol      string `json:"protocol"`
	RelayProtocol string `json:"relayProtocol"`
}

// dataResult counts the data channel messages of the "data" scenario.
type dataResult struct {
	Sent        int `json:"sent"`
	ReceivedBy1 int `json:"receivedBy1"`
	ReceivedBy2 int `json:"receivedBy2"`
}

// callResult is the record of the "call" scenario: pc1 pinged pc2 every
// second over a data channel and pc2 echoed. Times are Unix milliseconds
// (the page's Date.now()).
type callResult struct {
	// Seconds is how long the call was to last.
	Seconds int `json:"seconds"`
	// Start is when the data channel opened, End when the call ended.
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	// Sent counts the pings; Echoes holds when each echo came back, in
	// ping order.
	Sent   int     `json:"sent"`
	Echoes []int64 `json:"echoes"`
	// EndedBy is what ended the call: "time up", "connection failed",
	// "channel closed", "send failed", "bad echo" or "echoes missing".
	EndedBy string `json:"endedBy"`
	// FailedAt is when a connection failed or a data channel closed (0 if
	// neither did), SentAtFailure the pings sent until then; the page
	// went on pinging for 10 s after that before it ended the call.
	FailedAt      int64 `json:"failedAt"`
	SentAtFailure int   `json:"sentAtFailure"`
}

// rtpCount is the inbound-rtp counters of one kind of media.
type rtpCount struct {
	PacketsReceived uint64 `json:"packetsReceived"`
	BytesReceived   uint64 `json:"bytesReceived"`
}

// iceError is an icecandidateerror event, such as a 401 from the relay.
type iceError struct {
	PC        string `json:"pc"`
	URL       string `json:"url"`
	ErrorCode int    `json:"errorCode"`
	ErrorText string `json:"errorText"`
}

// byteCount is an RTCTransportStats' bytesSent and bytesReceived.
type byteCount struct {
	BytesSent     uint64 `json:"bytesSent"`
	BytesReceived uint64 `json:"bytesReceived"`
}
