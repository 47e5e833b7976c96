package monitor

// Kind is the type of a metric, after Apache ZooKeeper's metrics types.
type Kind int

// The kinds of metric.
const (
	// Gauge is one value, read when asked.
	Gauge Kind = iota
	// Counter is one value that only grows (until srst resets it).
	Counter
	// Summary is Apache's AvgMinMaxCounter: mntr shows avg_, min_, max_,
	// cnt_ and sum_ of its values, Prometheus a summary with the median.
	Summary
	// PercentileSummary is Apache's AvgMinMaxPercentileCounter: a Summary
	// plus p50_, p95_, p99_ and p999_ in mntr, and the 0.5, 0.9 and 0.99
	// quantiles in Prometheus.
	PercentileSummary
)

// Metric is one of Apache ZooKeeper's metrics. mntr shows it as zk_<Name>
// (with prefixes for summaries), the AdminServer's monitor command as
// <Name>, and Prometheus as <Name> with Help as its help text.
type Metric struct {
	Name string
	Kind Kind
	Help string
	// Ensemble marks the gauges Apache registers only in a quorum
	// (quorum_size) or on a leader: they are shown only when the server
	// gives them a value (Server.EnsembleGauges). Every other metric is
	// always shown, 0 when this server does not feed it.
	Ensemble bool
}

// Apache's Prometheus provider uses a metric's name as its help text too.
func gauge(name string) *Metric { return &Metric{Name: name, Kind: Gauge, Help: name} }
func ensembleGauge(name string) *Metric {
	return &Metric{Name: name, Kind: Gauge, Help: name, Ensemble: true}
}
func counter(name string) *Metric { return &Metric{Name: name, Kind: Counter, Help: name} }
func summary(name string) *Metric { return &Metric{Name: name, Kind: Summary, Help: name} }
func percentiles(name string) *Metric {
	return &Metric{Name: name, Kind: PercentileSummary, Help: name}
}

// The metrics the server feeds: counters (Stats.Add), summaries
// (Stats.Observe; ReadLatency and UpdateLatency through
// Stats.RecordLatency, ElectionTime and LookingCount through
// Stats.NoteRole) and the ensemble's gauges (Server.EnsembleGauges).
var (
	QuorumSize                 = ensembleGauge("quorum_size")
	Learners                   = ensembleGauge("learners")
	SyncedFollowers            = ensembleGauge("synced_followers")
	SyncedNonVotingFollowers   = ensembleGauge("synced_non_voting_followers")
	SyncedObservers            = ensembleGauge("synced_observers")
	PendingSyncs               = ensembleGauge("pending_syncs")
	LeaderUptime               = ensembleGauge("leader_uptime")
	LastProposalSize           = ensembleGauge("last_proposal_size")
	MaxProposalSize            = ensembleGauge("max_proposal_size")
	MinProposalSize            = ensembleGauge("min_proposal_size")
	ProposalCount              = counter("proposal_count")
	StaleRequestsDropped       = counter("stale_requests_dropped")
	LookingCount               = counter("looking_count")
	StaleRequests              = counter("stale_requests")
	RequestThrottleWaitCount   = counter("request_throttle_wait_count")
	CommitCount                = counter("commit_count")
	FsyncTime                  = summary("fsynctime")
	SnapshotTime               = summary("snapshottime")
	DBInitTime                 = summary("dbinittime")
	ElectionTime               = summary("election_time")
	UpdateLatency              = percentiles("updatelatency")
	RequestThrottleQueueTimeMs = percentiles("request_throttle_queue_time_ms")
	ReadLatency                = percentiles("readlatency")
	QuorumAckLatency           = percentiles("quorum_ack_latency")
)

// The gauges the monitor reads itself (see Monitor.gauges).
var (
	ephemeralsCount           = gauge("ephemerals_count")
	numAliveConnections       = gauge("num_alive_connections")
	avgLatency                = gauge("avg_latency")
	outstandingRequests       = gauge("outstanding_requests")
	znodeCount                = gauge("znode_count")
	globalSessions            = gauge("global_sessions")
	lastClientResponseSize    = gauge("last_client_response_size")
	packetsSent               = gauge("packets_sent")
	packetsReceived           = gauge("packets_received")
	maxClientResponseSize     = gauge("max_client_response_size")
	connectionDropProbability = gauge("connection_drop_probability")
	watchCount                = gauge("watch_count")
	minLatency                = gauge("min_latency")
	maxFileDescriptorCount    = gauge("max_file_descriptor_count")
	approximateDataSize       = gauge("approximate_data_size")
	openFileDescriptorCount   = gauge("open_file_descriptor_count")
	localSessions             = gauge("local_sessions")
	uptime                    = gauge("uptime")
	maxLatency                = gauge("max_latency")
	minClientResponseSize     = gauge("min_client_response_size")
)

// Metrics is the one table of metrics, in the order of Apache ZooKeeper
// 3.8's mntr after zk_version, zk_server_state and zk_peer_state: the
// standalone gauges, the ensemble's, the counters, the summaries, the
// percentile summaries. mntr, the AdminServer's monitor and Prometheus
// all read it. Metrics this server does not feed read 0.
var Metrics = []*Metric{
	ephemeralsCount,
	numAliveConnections,
	avgLatency,
	outstandingRequests,
	znodeCount,
	globalSessions,
	gauge("non_mtls_remote_conn_count"),
	lastClientResponseSize,
	packetsSent,
	packetsReceived,
	maxClientResponseSize,
	connectionDropProbability,
	watchCount,
	gauge("auth_failed_count"),
	minLatency,
	maxFileDescriptorCount,
	approximateDataSize,
	openFileDescriptorCount,
	localSessions,
	uptime,
	maxLatency,
	gauge("outstanding_tls_handshake"),
	minClientResponseSize,
	gauge("non_mtls_local_conn_count"),
	QuorumSize,
	Learners,
	SyncedFollowers,
	SyncedNonVotingFollowers,
	SyncedObservers,
	PendingSyncs,
	LeaderUptime,
	LastProposalSize,
	MaxProposalSize,
	MinProposalSize,
	ProposalCount,
	counter("watch_bytes"),
	counter("outstanding_changes_removed"),
	counter("throttled_ops"),
	StaleRequestsDropped,
	counter("large_requests_rejected"),
	counter("insecure_admin_count"),
	counter("connection_rejected"),
	counter("cnxn_closed_without_zk_server_running"),
	counter("sessionless_connections_expired"),
	LookingCount,
	counter("dead_watchers_queued"),
	StaleRequests,
	counter("connection_drop_count"),
	counter("learner_proposal_received_count"),
	counter("digest_mismatches_count"),
	counter("dead_watchers_cleared"),
	counter("response_packet_cache_hits"),
	counter("bytes_received_count"),
	counter("add_dead_watcher_stall_time"),
	RequestThrottleWaitCount,
	counter("requests_not_forwarded_to_commit_processor"),
	counter("response_packet_cache_misses"),
	counter("ensemble_auth_success"),
	counter("prep_processor_request_queued"),
	counter("learner_commit_received_count"),
	counter("stale_replies"),
	counter("connection_request_count"),
	counter("response_bytes"),
	counter("ensemble_auth_fail"),
	counter("diff_count"),
	counter("response_packet_get_children_cache_misses"),
	counter("connection_revalidate_count"),
	counter("quit_leading_due_to_disloyal_voter"),
	counter("snap_count"),
	counter("unrecoverable_error_count"),
	counter("unsuccessful_handshake"),
	CommitCount,
	counter("stale_sessions_expired"),
	counter("response_packet_get_children_cache_hits"),
	counter("sync_processor_request_queued"),
	counter("outstanding_changes_queued"),
	counter("request_commit_queued"),
	counter("ensemble_auth_skip"),
	counter("skip_learner_request_to_next_processor_count"),
	counter("tls_handshake_exceeded"),
	counter("revalidate_count"),
	summary("socket_closing_time"),
	summary("proposal_process_time"),
	summary("leader_unavailable_time"),
	summary("node_created_watch_count"),
	summary("session_queues_drained"),
	summary("write_commit_proc_req_queued"),
	summary("connection_token_deficit"),
	summary("read_commit_proc_req_queued"),
	summary("node_deleted_watch_count"),
	summary("startup_txns_load_time"),
	summary("sync_processor_queue_size"),
	summary("follower_sync_time"),
	summary("prep_processor_queue_size"),
	FsyncTime,
	summary("inflight_snap_count"),
	summary("reads_issued_from_session_queue"),
	summary("learner_request_processor_queue_size"),
	SnapshotTime,
	summary("unavailable_time"),
	summary("startup_txns_loaded"),
	summary("reads_after_write_in_session_queue"),
	summary("requests_in_session_queue"),
	summary("write_commit_proc_issued"),
	summary("prep_process_time"),
	summary("pending_session_queue_size"),
	summary("time_waiting_empty_pool_in_commit_processor_read_ms"),
	summary("commit_process_time"),
	DBInitTime,
	summary("inflight_diff_count"),
	summary("netty_queued_buffer_capacity"),
	ElectionTime,
	summary("commit_commit_proc_req_queued"),
	summary("sync_processor_batch_size"),
	summary("node_children_watch_count"),
	summary("write_batch_time_in_commit_processor"),
	summary("read_commit_proc_issued"),
	summary("concurrent_request_processing_in_commit_processor"),
	summary("observer_sync_time"),
	summary("node_changed_watch_count"),
	summary("sync_process_time"),
	summary("startup_snap_load_time"),
	percentiles("prep_processor_queue_time_ms"),
	percentiles("jvm_pause_time_ms"),
	percentiles("close_session_prep_time"),
	percentiles("read_commitproc_time_ms"),
	UpdateLatency,
	percentiles("local_write_committed_time_ms"),
	RequestThrottleQueueTimeMs,
	ReadLatency,
	QuorumAckLatency,
	percentiles("om_commit_process_time_ms"),
	percentiles("read_final_proc_time_ms"),
	percentiles("commit_propagation_latency"),
	percentiles("dead_watchers_cleaner_latency"),
	percentiles("write_final_proc_time_ms"),
	percentiles("proposal_ack_creation_latency"),
	percentiles("proposal_latency"),
	percentiles("om_proposal_process_time_ms"),
	percentiles("sync_processor_queue_and_flush_time_ms"),
	percentiles("propagation_latency"),
	percentiles("server_write_committed_time_ms"),
	percentiles("sync_processor_queue_time_ms"),
	percentiles("sync_processor_queue_flush_time_ms"),
	percentiles("write_commitproc_time_ms"),
}
