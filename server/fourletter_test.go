package server

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/server/monitor"
	"github.com/zkgo/zkgo/wire"
)

// apacheMntrKeys are the keys of `mntr` on a fresh standalone Apache
// ZooKeeper 3.8.0 (Debian's), in the order it printed them.
const apacheMntrKeys = `
zk_version zk_server_state zk_ephemerals_count zk_num_alive_connections zk_avg_latency zk_outstanding_requests
zk_znode_count zk_global_sessions zk_non_mtls_remote_conn_count zk_last_client_response_size
zk_packets_sent zk_packets_received zk_max_client_response_size zk_connection_drop_probability
zk_watch_count zk_auth_failed_count zk_min_latency zk_max_file_descriptor_count zk_approximate_data_size
zk_open_file_descriptor_count zk_local_sessions zk_uptime zk_max_latency zk_outstanding_tls_handshake
zk_min_client_response_size zk_non_mtls_local_conn_count zk_proposal_count zk_watch_bytes zk_outstanding_changes_removed
zk_throttled_ops zk_stale_requests_dropped zk_large_requests_rejected zk_insecure_admin_count
zk_connection_rejected zk_cnxn_closed_without_zk_server_running zk_sessionless_connections_expired
zk_looking_count zk_dead_watchers_queued zk_stale_requests zk_connection_drop_count zk_learner_proposal_received_count
zk_digest_mismatches_count zk_dead_watchers_cleared zk_response_packet_cache_hits zk_bytes_received_count
zk_add_dead_watcher_stall_time zk_request_throttle_wait_count zk_requests_not_forwarded_to_commit_processor
zk_response_packet_cache_misses zk_ensemble_auth_success zk_prep_processor_request_queued zk_learner_commit_received_count
zk_stale_replies zk_connection_request_count zk_response_bytes zk_ensemble_auth_fail zk_diff_count
zk_response_packet_get_children_cache_misses zk_connection_revalidate_count zk_quit_leading_due_to_disloyal_voter
zk_snap_count zk_unrecoverable_error_count zk_unsuccessful_handshake zk_commit_count zk_stale_sessions_expired
zk_response_packet_get_children_cache_hits zk_sync_processor_request_queued zk_outstanding_changes_queued
zk_request_commit_queued zk_ensemble_auth_skip zk_skip_learner_request_to_next_processor_count
zk_tls_handshake_exceeded zk_revalidate_count zk_avg_socket_closing_time zk_min_socket_closing_time
zk_max_socket_closing_time zk_cnt_socket_closing_time zk_sum_socket_closing_time zk_avg_proposal_process_time
zk_min_proposal_process_time zk_max_proposal_process_time zk_cnt_proposal_process_time zk_sum_proposal_process_time
zk_avg_leader_unavailable_time zk_min_leader_unavailable_time zk_max_leader_unavailable_time
zk_cnt_leader_unavailable_time zk_sum_leader_unavailable_time zk_avg_node_created_watch_count
zk_min_node_created_watch_count zk_max_node_created_watch_count zk_cnt_node_created_watch_count
zk_sum_node_created_watch_count zk_avg_session_queues_drained zk_min_session_queues_drained
zk_max_session_queues_drained zk_cnt_session_queues_drained zk_sum_session_queues_drained zk_avg_write_commit_proc_req_queued
zk_min_write_commit_proc_req_queued zk_max_write_commit_proc_req_queued zk_cnt_write_commit_proc_req_queued
zk_sum_write_commit_proc_req_queued zk_avg_connection_token_deficit zk_min_connection_token_deficit
zk_max_connection_token_deficit zk_cnt_connection_token_deficit zk_sum_connection_token_deficit
zk_avg_read_commit_proc_req_queued zk_min_read_commit_proc_req_queued zk_max_read_commit_proc_req_queued
zk_cnt_read_commit_proc_req_queued zk_sum_read_commit_proc_req_queued zk_avg_node_deleted_watch_count
zk_min_node_deleted_watch_count zk_max_node_deleted_watch_count zk_cnt_node_deleted_watch_count
zk_sum_node_deleted_watch_count zk_avg_startup_txns_load_time zk_min_startup_txns_load_time
zk_max_startup_txns_load_time zk_cnt_startup_txns_load_time zk_sum_startup_txns_load_time zk_avg_sync_processor_queue_size
zk_min_sync_processor_queue_size zk_max_sync_processor_queue_size zk_cnt_sync_processor_queue_size
zk_sum_sync_processor_queue_size zk_avg_follower_sync_time zk_min_follower_sync_time zk_max_follower_sync_time
zk_cnt_follower_sync_time zk_sum_follower_sync_time zk_avg_prep_processor_queue_size zk_min_prep_processor_queue_size
zk_max_prep_processor_queue_size zk_cnt_prep_processor_queue_size zk_sum_prep_processor_queue_size
zk_avg_fsynctime zk_min_fsynctime zk_max_fsynctime zk_cnt_fsynctime zk_sum_fsynctime zk_avg_inflight_snap_count
zk_min_inflight_snap_count zk_max_inflight_snap_count zk_cnt_inflight_snap_count zk_sum_inflight_snap_count
zk_avg_reads_issued_from_session_queue zk_min_reads_issued_from_session_queue zk_max_reads_issued_from_session_queue
zk_cnt_reads_issued_from_session_queue zk_sum_reads_issued_from_session_queue zk_avg_learner_request_processor_queue_size
zk_min_learner_request_processor_queue_size zk_max_learner_request_processor_queue_size zk_cnt_learner_request_processor_queue_size
zk_sum_learner_request_processor_queue_size zk_avg_snapshottime zk_min_snapshottime zk_max_snapshottime
zk_cnt_snapshottime zk_sum_snapshottime zk_avg_unavailable_time zk_min_unavailable_time zk_max_unavailable_time
zk_cnt_unavailable_time zk_sum_unavailable_time zk_avg_startup_txns_loaded zk_min_startup_txns_loaded
zk_max_startup_txns_loaded zk_cnt_startup_txns_loaded zk_sum_startup_txns_loaded zk_avg_reads_after_write_in_session_queue
zk_min_reads_after_write_in_session_queue zk_max_reads_after_write_in_session_queue zk_cnt_reads_after_write_in_session_queue
zk_sum_reads_after_write_in_session_queue zk_avg_requests_in_session_queue zk_min_requests_in_session_queue
zk_max_requests_in_session_queue zk_cnt_requests_in_session_queue zk_sum_requests_in_session_queue
zk_avg_write_commit_proc_issued zk_min_write_commit_proc_issued zk_max_write_commit_proc_issued
zk_cnt_write_commit_proc_issued zk_sum_write_commit_proc_issued zk_avg_prep_process_time zk_min_prep_process_time
zk_max_prep_process_time zk_cnt_prep_process_time zk_sum_prep_process_time zk_avg_pending_session_queue_size
zk_min_pending_session_queue_size zk_max_pending_session_queue_size zk_cnt_pending_session_queue_size
zk_sum_pending_session_queue_size zk_avg_time_waiting_empty_pool_in_commit_processor_read_ms
zk_min_time_waiting_empty_pool_in_commit_processor_read_ms zk_max_time_waiting_empty_pool_in_commit_processor_read_ms
zk_cnt_time_waiting_empty_pool_in_commit_processor_read_ms zk_sum_time_waiting_empty_pool_in_commit_processor_read_ms
zk_avg_commit_process_time zk_min_commit_process_time zk_max_commit_process_time zk_cnt_commit_process_time
zk_sum_commit_process_time zk_avg_dbinittime zk_min_dbinittime zk_max_dbinittime zk_cnt_dbinittime
zk_sum_dbinittime zk_avg_inflight_diff_count zk_min_inflight_diff_count zk_max_inflight_diff_count
zk_cnt_inflight_diff_count zk_sum_inflight_diff_count zk_avg_netty_queued_buffer_capacity zk_min_netty_queued_buffer_capacity
zk_max_netty_queued_buffer_capacity zk_cnt_netty_queued_buffer_capacity zk_sum_netty_queued_buffer_capacity
zk_avg_election_time zk_min_election_time zk_max_election_time zk_cnt_election_time zk_sum_election_time
zk_avg_commit_commit_proc_req_queued zk_min_commit_commit_proc_req_queued zk_max_commit_commit_proc_req_queued
zk_cnt_commit_commit_proc_req_queued zk_sum_commit_commit_proc_req_queued zk_avg_sync_processor_batch_size
zk_min_sync_processor_batch_size zk_max_sync_processor_batch_size zk_cnt_sync_processor_batch_size
zk_sum_sync_processor_batch_size zk_avg_node_children_watch_count zk_min_node_children_watch_count
zk_max_node_children_watch_count zk_cnt_node_children_watch_count zk_sum_node_children_watch_count
zk_avg_write_batch_time_in_commit_processor zk_min_write_batch_time_in_commit_processor zk_max_write_batch_time_in_commit_processor
zk_cnt_write_batch_time_in_commit_processor zk_sum_write_batch_time_in_commit_processor zk_avg_read_commit_proc_issued
zk_min_read_commit_proc_issued zk_max_read_commit_proc_issued zk_cnt_read_commit_proc_issued
zk_sum_read_commit_proc_issued zk_avg_concurrent_request_processing_in_commit_processor zk_min_concurrent_request_processing_in_commit_processor
zk_max_concurrent_request_processing_in_commit_processor zk_cnt_concurrent_request_processing_in_commit_processor
zk_sum_concurrent_request_processing_in_commit_processor zk_avg_observer_sync_time zk_min_observer_sync_time
zk_max_observer_sync_time zk_cnt_observer_sync_time zk_sum_observer_sync_time zk_avg_node_changed_watch_count
zk_min_node_changed_watch_count zk_max_node_changed_watch_count zk_cnt_node_changed_watch_count
zk_sum_node_changed_watch_count zk_avg_sync_process_time zk_min_sync_process_time zk_max_sync_process_time
zk_cnt_sync_process_time zk_sum_sync_process_time zk_avg_startup_snap_load_time zk_min_startup_snap_load_time
zk_max_startup_snap_load_time zk_cnt_startup_snap_load_time zk_sum_startup_snap_load_time zk_avg_prep_processor_queue_time_ms
zk_min_prep_processor_queue_time_ms zk_max_prep_processor_queue_time_ms zk_cnt_prep_processor_queue_time_ms
zk_sum_prep_processor_queue_time_ms zk_p50_prep_processor_queue_time_ms zk_p95_prep_processor_queue_time_ms
zk_p99_prep_processor_queue_time_ms zk_p999_prep_processor_queue_time_ms zk_avg_jvm_pause_time_ms
zk_min_jvm_pause_time_ms zk_max_jvm_pause_time_ms zk_cnt_jvm_pause_time_ms zk_sum_jvm_pause_time_ms
zk_p50_jvm_pause_time_ms zk_p95_jvm_pause_time_ms zk_p99_jvm_pause_time_ms zk_p999_jvm_pause_time_ms
zk_avg_close_session_prep_time zk_min_close_session_prep_time zk_max_close_session_prep_time
zk_cnt_close_session_prep_time zk_sum_close_session_prep_time zk_p50_close_session_prep_time
zk_p95_close_session_prep_time zk_p99_close_session_prep_time zk_p999_close_session_prep_time
zk_avg_read_commitproc_time_ms zk_min_read_commitproc_time_ms zk_max_read_commitproc_time_ms
zk_cnt_read_commitproc_time_ms zk_sum_read_commitproc_time_ms zk_p50_read_commitproc_time_ms
zk_p95_read_commitproc_time_ms zk_p99_read_commitproc_time_ms zk_p999_read_commitproc_time_ms
zk_avg_updatelatency zk_min_updatelatency zk_max_updatelatency zk_cnt_updatelatency zk_sum_updatelatency
zk_p50_updatelatency zk_p95_updatelatency zk_p99_updatelatency zk_p999_updatelatency zk_avg_local_write_committed_time_ms
zk_min_local_write_committed_time_ms zk_max_local_write_committed_time_ms zk_cnt_local_write_committed_time_ms
zk_sum_local_write_committed_time_ms zk_p50_local_write_committed_time_ms zk_p95_local_write_committed_time_ms
zk_p99_local_write_committed_time_ms zk_p999_local_write_committed_time_ms zk_avg_request_throttle_queue_time_ms
zk_min_request_throttle_queue_time_ms zk_max_request_throttle_queue_time_ms zk_cnt_request_throttle_queue_time_ms
zk_sum_request_throttle_queue_time_ms zk_p50_request_throttle_queue_time_ms zk_p95_request_throttle_queue_time_ms
zk_p99_request_throttle_queue_time_ms zk_p999_request_throttle_queue_time_ms zk_avg_readlatency
zk_min_readlatency zk_max_readlatency zk_cnt_readlatency zk_sum_readlatency zk_p50_readlatency
zk_p95_readlatency zk_p99_readlatency zk_p999_readlatency zk_avg_quorum_ack_latency zk_min_quorum_ack_latency
zk_max_quorum_ack_latency zk_cnt_quorum_ack_latency zk_sum_quorum_ack_latency zk_p50_quorum_ack_latency
zk_p95_quorum_ack_latency zk_p99_quorum_ack_latency zk_p999_quorum_ack_latency zk_avg_om_commit_process_time_ms
zk_min_om_commit_process_time_ms zk_max_om_commit_process_time_ms zk_cnt_om_commit_process_time_ms
zk_sum_om_commit_process_time_ms zk_p50_om_commit_process_time_ms zk_p95_om_commit_process_time_ms
zk_p99_om_commit_process_time_ms zk_p999_om_commit_process_time_ms zk_avg_read_final_proc_time_ms
zk_min_read_final_proc_time_ms zk_max_read_final_proc_time_ms zk_cnt_read_final_proc_time_ms
zk_sum_read_final_proc_time_ms zk_p50_read_final_proc_time_ms zk_p95_read_final_proc_time_ms
zk_p99_read_final_proc_time_ms zk_p999_read_final_proc_time_ms zk_avg_commit_propagation_latency
zk_min_commit_propagation_latency zk_max_commit_propagation_latency zk_cnt_commit_propagation_latency
zk_sum_commit_propagation_latency zk_p50_commit_propagation_latency zk_p95_commit_propagation_latency
zk_p99_commit_propagation_latency zk_p999_commit_propagation_latency zk_avg_dead_watchers_cleaner_latency
zk_min_dead_watchers_cleaner_latency zk_max_dead_watchers_cleaner_latency zk_cnt_dead_watchers_cleaner_latency
zk_sum_dead_watchers_cleaner_latency zk_p50_dead_watchers_cleaner_latency zk_p95_dead_watchers_cleaner_latency
zk_p99_dead_watchers_cleaner_latency zk_p999_dead_watchers_cleaner_latency zk_avg_write_final_proc_time_ms
zk_min_write_final_proc_time_ms zk_max_write_final_proc_time_ms zk_cnt_write_final_proc_time_ms
zk_sum_write_final_proc_time_ms zk_p50_write_final_proc_time_ms zk_p95_write_final_proc_time_ms
zk_p99_write_final_proc_time_ms zk_p999_write_final_proc_time_ms zk_avg_proposal_ack_creation_latency
zk_min_proposal_ack_creation_latency zk_max_proposal_ack_creation_latency zk_cnt_proposal_ack_creation_latency
zk_sum_proposal_ack_creation_latency zk_p50_proposal_ack_creation_latency zk_p95_proposal_ack_creation_latency
zk_p99_proposal_ack_creation_latency zk_p999_proposal_ack_creation_latency zk_avg_proposal_latency
zk_min_proposal_latency zk_max_proposal_latency zk_cnt_proposal_latency zk_sum_proposal_latency
zk_p50_proposal_latency zk_p95_proposal_latency zk_p99_proposal_latency zk_p999_proposal_latency
zk_avg_om_proposal_process_time_ms zk_min_om_proposal_process_time_ms zk_max_om_proposal_process_time_ms
zk_cnt_om_proposal_process_time_ms zk_sum_om_proposal_process_time_ms zk_p50_om_proposal_process_time_ms
zk_p95_om_proposal_process_time_ms zk_p99_om_proposal_process_time_ms zk_p999_om_proposal_process_time_ms
zk_avg_sync_processor_queue_and_flush_time_ms zk_min_sync_processor_queue_and_flush_time_ms
zk_max_sync_processor_queue_and_flush_time_ms zk_cnt_sync_processor_queue_and_flush_time_ms
zk_sum_sync_processor_queue_and_flush_time_ms zk_p50_sync_processor_queue_and_flush_time_ms
zk_p95_sync_processor_queue_and_flush_time_ms zk_p99_sync_processor_queue_and_flush_time_ms
zk_p999_sync_processor_queue_and_flush_time_ms zk_avg_propagation_latency zk_min_propagation_latency
zk_max_propagation_latency zk_cnt_propagation_latency zk_sum_propagation_latency zk_p50_propagation_latency
zk_p95_propagation_latency zk_p99_propagation_latency zk_p999_propagation_latency zk_avg_server_write_committed_time_ms
zk_min_server_write_committed_time_ms zk_max_server_write_committed_time_ms zk_cnt_server_write_committed_time_ms
zk_sum_server_write_committed_time_ms zk_p50_server_write_committed_time_ms zk_p95_server_write_committed_time_ms
zk_p99_server_write_committed_time_ms zk_p999_server_write_committed_time_ms zk_avg_sync_processor_queue_time_ms
zk_min_sync_processor_queue_time_ms zk_max_sync_processor_queue_time_ms zk_cnt_sync_processor_queue_time_ms
zk_sum_sync_processor_queue_time_ms zk_p50_sync_processor_queue_time_ms zk_p95_sync_processor_queue_time_ms
zk_p99_sync_processor_queue_time_ms zk_p999_sync_processor_queue_time_ms zk_avg_sync_processor_queue_flush_time_ms
zk_min_sync_processor_queue_flush_time_ms zk_max_sync_processor_queue_flush_time_ms zk_cnt_sync_processor_queue_flush_time_ms
zk_sum_sync_processor_queue_flush_time_ms zk_p50_sync_processor_queue_flush_time_ms zk_p95_sync_processor_queue_flush_time_ms
zk_p99_sync_processor_queue_flush_time_ms zk_p999_sync_processor_queue_flush_time_ms zk_avg_write_commitproc_time_ms
zk_min_write_commitproc_time_ms zk_max_write_commitproc_time_ms zk_cnt_write_commitproc_time_ms
zk_sum_write_commitproc_time_ms zk_p50_write_commitproc_time_ms zk_p95_write_commitproc_time_ms
zk_p99_write_commitproc_time_ms zk_p999_write_commitproc_time_ms
`

// matchLines checks out line by line against regular expressions (each
// anchored at both ends).
func matchLines(t *testing.T, name, out string, want ...string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) != len(want) {
		t.Fatalf("%s: %d lines, want %d:\n%s", name, len(lines), len(want), out)
	}
	for i, w := range want {
		if !regexp.MustCompile(`^` + w + `$`).MatchString(lines[i]) {
			t.Fatalf("%s: line %d is %q, want /%s/; whole output:\n%s", name, i+1, lines[i], w, out)
		}
	}
}

// settle waits until the server holds n connections: a four-letter word's
// connection closes just after its answer.
func settle(t *testing.T, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for len(s.connections()) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections, want %d", len(s.connections()), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// fourLetterConn matches the line (brief form) of the connection asking.
const fourLetterConn = ` /127\.0\.0\.1:\d+\[0\]\(queued=0,recved=1,sent=0\)`

func TestFourLetterSimpleAnswers(t *testing.T) {
	s := startServer(t, nil)
	addr := s.Addr().String()
	for cmd, want := range map[string]string{
		"ruok": "imok",
		"isro": "rw",
		"gtmk": "306",
		"hash": "",
		"crst": "Connection stats reset.\n",
		"srst": "Server stats reset.\n",
	} {
		if got := fourLetter(t, addr, cmd); got != want {
			t.Errorf("%s: %q, want %q", cmd, got, want)
		}
	}
}

func TestFourLetterTraceMask(t *testing.T) {
	s := startServer(t, nil)
	addr := s.Addr().String()
	stmk := func(mask int64, split bool) string {
		nc, err := net.DialTimeout("tcp", addr, waitLimit)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(waitLimit))
		msg := binary.BigEndian.AppendUint64([]byte("stmk"), uint64(mask))
		if split {
			// The mask in a later segment than the word.
			nc.Write(msg[:4])
			msg = msg[4:]
		}
		nc.Write(msg)
		b, err := io.ReadAll(nc)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := stmk(0x1ff, true); got != "511" {
		t.Fatalf("stmk 0x1ff: %q", got)
	}
	if got := fourLetter(t, addr, "gtmk"); got != "511" {
		t.Fatalf("gtmk after stmk: %q", got)
	}
	if got := stmk(0, true); got != "0" {
		t.Fatalf("stmk 0: %q", got)
	}
	// A mask that never comes: no answer.
	if got := fourLetter(t, addr, "stmk"); got != "" {
		t.Fatalf("stmk without a mask: %q", got)
	}
}

func TestFourLetterSrvrStat(t *testing.T) {
	s := startServer(t, nil)
	addr := s.Addr().String()
	c := newRaw(t, s)
	c.expect(wire.ErrOK, wire.OpCreate, create("/a", "x", 0), nil)
	c.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/a"}, nil)

	header := []string{`Zookeeper version: 3\.9\.\d+-zkgo, built on .+`}
	counters := []string{
		`Latency min/avg/max: \d+/\d+\.\d+(E-?\d+)?/\d+`,
		`Received: \d+`,
		`Sent: \d+`,
		`Connections: 2`,
		`Outstanding: 0`,
		`Zxid: 0x[0-9a-f]+`,
		`Mode: standalone`,
		`Node count: 6`,
		``,
	}
	settle(t, s, 1)
	matchLines(t, "srvr", fourLetter(t, addr, "srvr"), slices.Concat(header, counters)...)
	clients := []string{
		`Clients:`,
		` /127\.0\.0\.1:\d+\[1\]\(queued=0,recved=3,sent=3\)`,
		fourLetterConn,
		``,
	}
	settle(t, s, 1)
	matchLines(t, "stat", fourLetter(t, addr, "stat"), slices.Concat(header, clients, counters)...)

	// srst zeroes the counters: the next srvr has only itself received
	// and srst's answer sent.
	fourLetter(t, addr, "srst")
	settle(t, s, 1)
	out := fourLetter(t, addr, "srvr")
	for _, want := range []string{"Latency min/avg/max: 0/0.0/0\n", "Received: 1\n", "Sent: 1\n"} {
		if !strings.Contains(out, want) {
			t.Fatalf("srvr after srst lacks %q:\n%s", want, out)
		}
	}
}

func TestFourLetterCons(t *testing.T) {
	s := startServer(t, nil)
	addr := s.Addr().String()
	c := newRaw(t, s)
	c.expect(wire.ErrOK, wire.OpCreate, create("/a", "x", 0), nil)
	c.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/a"}, nil)
	sid := fmt.Sprintf("0x%x", c.resp.SessionID)

	client := ` /127\.0\.0\.1:\d+\[1\]\(queued=0,recved=3,sent=3,sid=` + sid +
		`,lop=GETD,est=\d{13},to=10000,lcxid=0x2,lzxid=0x[0-9a-f]+,lresp=\d+,llat=\d+,minlat=\d+,avglat=\d+,maxlat=\d+\)`
	settle(t, s, 1)
	matchLines(t, "cons", fourLetter(t, addr, "cons"), client, fourLetterConn, ``, ``)

	c.expect(wire.ErrOK, wire.OpPing, nil, nil) // uses up xid 3 in rawClient
	out := fourLetter(t, addr, "cons")
	if !strings.Contains(out, ",lop=PING,") || !strings.Contains(out, ",lcxid=0x2,") {
		t.Fatalf("cons after a ping (lop PING, lcxid unchanged):\n%s", out)
	}

	if got := fourLetter(t, addr, "crst"); got != "Connection stats reset.\n" {
		t.Fatalf("crst: %q", got)
	}
	reset := ` /127\.0\.0\.1:\d+\[1\]\(queued=0,recved=0,sent=0,sid=` + sid +
		`,lop=NA,est=\d{13},to=10000,lzxid=0xffffffffffffffff,lresp=0,llat=0,minlat=0,avglat=0,maxlat=0\)`
	settle(t, s, 1)
	matchLines(t, "cons after crst", fourLetter(t, addr, "cons"), reset, fourLetterConn, ``, ``)

	c.expect(wire.ErrOK, wire.OpExists, &wire.PathWatchRequest{Path: "/a"}, nil)
	after := ` /127\.0\.0\.1:\d+\[1\]\(queued=0,recved=1,sent=1,sid=` + sid +
		`,lop=EXIS,est=\d{13},to=10000,lcxid=0x4,lzxid=0x[0-9a-f]+,lresp=\d+,llat=\d+,minlat=\d+,avglat=\d+,maxlat=\d+\)`
	settle(t, s, 1)
	matchLines(t, "cons after crst and exists", fourLetter(t, addr, "cons"), after, fourLetterConn, ``, ``)
}

func TestFourLetterConfDirs(t *testing.T) {
	s := startServer(t, func(c *conf.Config) { c.MyID = 7 })
	addr := s.Addr().String()
	dir := filepath.Join(s.cfg.DataDir, "version-2")
	_, port, _ := net.SplitHostPort(addr)
	matchLines(t, "conf", fourLetter(t, addr, "conf"),
		`clientPort=`+port,
		`secureClientPort=-1`,
		`dataDir=`+regexp.QuoteMeta(dir),
		`dataDirSize=\d+`,
		`dataLogDir=`+regexp.QuoteMeta(dir),
		`dataLogSize=\d+`,
		`tickTime=100`,
		`maxClientCnxns=60`,
		`minSessionTimeout=200`,
		`maxSessionTimeout=20000`,
		`clientPortListenBacklog=-1`,
		`serverId=7`,
		``,
	)
	matchLines(t, "dirs", fourLetter(t, addr, "dirs"), `datadir_size: \d+`, `logdir_size: \d+`, ``)
}

func TestFourLetterEnvi(t *testing.T) {
	s := startServer(t, nil)
	matchLines(t, "envi", fourLetter(t, s.Addr().String(), "envi"),
		`Environment:`,
		`zookeeper\.version=3\.9\.\d+-zkgo, built on .+`,
		`host\.name=.+`,
		`java\.version=go.+`,
		`java\.vendor=.+`,
		`java\.home=.+`,
		`java\.class\.path=.+`,
		`java\.library\.path=.+`,
		`java\.io\.tmpdir=.+`,
		`java\.compiler=<NA>`,
		`os\.name=.+`,
		`os\.arch=.+`,
		`os\.version=.+`,
		`user\.name=.+`,
		`user\.home=.+`,
		`user\.dir=.+`,
		`os\.memory\.free=\d+MB`,
		`os\.memory\.max=\d+MB`,
		`os\.memory\.total=\d+MB`,
		``,
	)
}

func TestFourLetterMntr(t *testing.T) {
	s := startServer(t, nil)
	addr := s.Addr().String()
	c := newRaw(t, s)
	c.expect(wire.ErrOK, wire.OpCreate, create("/a", "xyz", 0), nil)
	c.expect(wire.ErrOK, wire.OpCreate, create("/e", "", wire.FlagEphemeral), nil)
	c.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/a", Watch: true}, nil)
	c.expect(wire.ErrOK, wire.OpGetChildren, &wire.PathWatchRequest{Path: "/a", Watch: true}, nil)

	settle(t, s, 1)
	out := fourLetter(t, addr, "mntr")
	if !strings.HasSuffix(out, "\n") {
		t.Fatalf("mntr does not end with a newline:\n%s", out)
	}
	line := regexp.MustCompile(`^zk_[a-z0-9_]+\t(-?\d+|-?\d+\.\d+(E-?\d+)?|3\.9\.\d+-zkgo, built on .+|standalone)$`)
	values := map[string]string{}
	var keys []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !line.MatchString(l) {
			t.Fatalf("mntr line %q is not zk_<key>\\t<value>", l)
		}
		k, v, _ := strings.Cut(l, "\t")
		if _, dup := values[k]; dup {
			t.Fatalf("mntr repeats %s", k)
		}
		values[k] = v
		keys = append(keys, k)
	}
	want := strings.Fields(apacheMntrKeys)
	var missing, extra []string
	for _, k := range want {
		if _, ok := values[k]; !ok {
			missing = append(missing, k)
		}
	}
	for _, k := range keys {
		if !slices.Contains(want, k) {
			extra = append(extra, k)
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("mntr keys differ from Apache 3.8's: missing %v, extra %v", missing, extra)
	}
	if !slices.Equal(keys, want) {
		t.Fatalf("mntr keys are not in Apache's order")
	}
	for k, v := range map[string]string{
		"zk_server_state":                "standalone",
		"zk_znode_count":                 "7",
		"zk_ephemerals_count":            "1",
		"zk_num_alive_connections":       "2",
		"zk_global_sessions":             "1",
		"zk_outstanding_requests":        "0",
		"zk_watch_count":                 "2",
		"zk_local_sessions":              "0",
		"zk_connection_drop_probability": "0.0",
		"zk_last_client_response_size":   "-1",
		"zk_avg_jvm_pause_time_ms":       "0.0",
		"zk_p999_jvm_pause_time_ms":      "0",
	} {
		if values[k] != v {
			t.Errorf("%s = %q, want %q", k, values[k], v)
		}
	}
	for _, k := range []string{"zk_packets_received", "zk_packets_sent", "zk_open_file_descriptor_count", "zk_max_file_descriptor_count", "zk_approximate_data_size"} {
		if values[k] == "0" || strings.HasPrefix(values[k], "-") {
			t.Errorf("%s = %q, want a positive count", k, values[k])
		}
	}
	if !regexp.MustCompile(`^\d+\.\d+$`).MatchString(values["zk_avg_latency"]) {
		t.Errorf("zk_avg_latency = %q, want a Java double", values["zk_avg_latency"])
	}
}

func TestFourLetterWatches(t *testing.T) {
	s := startServer(t, nil)
	addr := s.Addr().String()
	matchLines(t, "wchs empty", fourLetter(t, addr, "wchs"), `0 connections watching 0 paths`, `Total watches:0`, ``)
	if got := fourLetter(t, addr, "wchc"); got != "\n" {
		t.Fatalf("wchc empty: %q", got)
	}
	if got := fourLetter(t, addr, "wchp"); got != "\n" {
		t.Fatalf("wchp empty: %q", got)
	}

	c1, c2 := newRaw(t, s), newRaw(t, s)
	c1.expect(wire.ErrOK, wire.OpCreate, create("/a", "", 0), nil)
	c1.expect(wire.ErrOK, wire.OpCreate, create("/a/b", "", 0), nil)
	c1.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/a", Watch: true}, nil)
	c1.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/a/b", Watch: true}, nil)
	c1.expect(wire.ErrNoNode, wire.OpExists, &wire.PathWatchRequest{Path: "/nope", Watch: true}, nil)
	c1.expect(wire.ErrOK, wire.OpGetChildren, &wire.PathWatchRequest{Path: "/a", Watch: true}, nil) // a child watch: not listed
	c2.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/a", Watch: true}, nil)

	// Ordered by session id and path.
	s1, s2 := c1.resp.SessionID, c2.resp.SessionID
	if s2 < s1 {
		t.Fatalf("session ids not increasing: %x %x", s1, s2)
	}
	x1, x2 := fmt.Sprintf("0x%x", s1), fmt.Sprintf("0x%x", s2)
	matchLines(t, "wchs", fourLetter(t, addr, "wchs"), `2 connections watching 3 paths`, `Total watches:4`, ``)
	matchLines(t, "wchc", fourLetter(t, addr, "wchc"), x1, "\t/a", "\t/a/b", "\t/nope", x2, "\t/a", ``, ``)
	matchLines(t, "wchp", fourLetter(t, addr, "wchp"), "/a", "\t"+x1, "\t"+x2, "/a/b", "\t"+x1, "/nope", "\t"+x1, ``, ``)
}

func TestFourLetterDump(t *testing.T) {
	s := startServer(t, nil)
	addr := s.Addr().String()
	c1, c2 := newRaw(t, s), newRaw(t, s)
	c1.expect(wire.ErrOK, wire.OpCreate, create("/e2", "", wire.FlagEphemeral), nil)
	c1.expect(wire.ErrOK, wire.OpCreate, create("/e1", "", wire.FlagEphemeral), nil)
	x1, x2 := fmt.Sprintf("0x%x", c1.resp.SessionID), fmt.Sprintf("0x%x", c2.resp.SessionID)
	settle(t, s, 2)
	date := `[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \S+ \d{4}`
	out := fourLetter(t, addr, "dump")
	lines := strings.Split(out, "\n")
	// The sessions may fall in one expiry set or two.
	want := []string{`SessionTracker dump:`, `Session Sets \((1|2)\)/\(2\):`}
	if strings.HasPrefix(lines[2], "2 ") {
		want = append(want, `2 expire at `+date+`:`, "\t"+x1, "\t"+x2)
	} else {
		// In either order: c1's creates move its deadline later than
		// c2's, which may then expire first.
		either := "\t(" + x1 + "|" + x2 + ")"
		want = append(want, `1 expire at `+date+`:`, either, `1 expire at `+date+`:`, either)
		if lines[3] == lines[5] {
			t.Fatalf("dump lists one session twice:\n%s", strings.Join(lines, "\n"))
		}
	}
	want = append(want,
		`ephemeral nodes dump:`,
		`Sessions with Ephemerals \(1\):`,
		x1+`:`,
		"\t/e1",
		"\t/e2",
		`Connections dump:`,
		`Connections Sets \((1|2|3)\)/\(3\):`,
	)
	n := len(want)
	if len(lines) < n {
		t.Fatalf("dump too short:\n%s", out)
	}
	matchLines(t, "dump", strings.Join(lines[:n], "\n"), want...)
	conns := 0
	for _, l := range lines[n:] {
		switch {
		case regexp.MustCompile(`^\d expire at ` + date + `:$`).MatchString(l), l == "":
		case regexp.MustCompile(`^\tip: /127\.0\.0\.1:\d+ sessionId: 0x[0-9a-f]+$`).MatchString(l):
			conns++
		default:
			t.Fatalf("dump: unexpected line %q:\n%s", l, out)
		}
	}
	if conns != 3 || !strings.Contains(out, " sessionId: "+x1+"\n") || !strings.Contains(out, " sessionId: 0x0\n") {
		t.Fatalf("dump lists the connections wrongly:\n%s", out)
	}
}

func TestFourLetterWhitelist(t *testing.T) {
	s := startServer(t, func(c *conf.Config) { c.FourLetterWords = []string{"srvr", "ruok"} })
	addr := s.Addr().String()
	for _, cmd := range monitor.FourLetterWords() {
		got := fourLetter(t, addr, cmd)
		switch cmd {
		case "srvr":
			if !strings.HasPrefix(got, "Zookeeper version: ") {
				t.Errorf("srvr refused: %q", got)
			}
		case "ruok":
			if got != "imok" {
				t.Errorf("ruok refused: %q", got)
			}
		default:
			if want := cmd + " is not executed because it is not in the whitelist.\n"; got != want {
				t.Errorf("%s: %q, want %q", cmd, got, want)
			}
		}
	}
	if n := len(monitor.FourLetterWords()); n != 18 {
		t.Errorf("%d four-letter words, want Apache's 18", n)
	}
}

func TestConsOpName(t *testing.T) {
	for _, c := range []struct {
		op   wire.OpCode
		err  wire.ErrCode
		want string
	}{
		{wire.OpGetData, wire.ErrOK, "GETD"}, {wire.OpGetData, wire.ErrNoNode, "GETD"},
		{wire.OpCreate2, wire.ErrOK, "CREA"}, {wire.OpCreate, wire.ErrNodeExists, "NA"},
		{wire.OpMulti, wire.ErrNoNode, "MULT"}, {wire.OpGetChildren2, wire.ErrOK, "GETC"},
		{wire.OpGetAllChildrenNumber, wire.ErrOK, "GETACN"}, {wire.OpWhoAmI, wire.ErrOK, "HOMI"},
		{wire.OpCreateSession, wire.ErrOK, "SESS"}, {wire.OpAuth, wire.ErrOK, "NA"},
	} {
		if got := consOpName(c.op, c.err); got != c.want {
			t.Errorf("consOpName(%v, %v) = %q, want %q", c.op, c.err, got, c.want)
		}
	}
}
