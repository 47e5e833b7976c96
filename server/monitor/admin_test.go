package monitor

import (
	"encoding/json"
	"strings"
	"testing"
)

// apacheStatsJSON and apacheDumpJSON are Apache's answers, byte for byte,
// to stats and dump: Jackson's layout.
const apacheStatsJSON = `{
  "version" : "3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC",
  "read_only" : false,
  "server_stats" : {
    "packets_sent" : 11,
    "packets_received" : 11,
    "fsync_threshold_exceed_count" : 0,
    "client_response_stats" : {
      "last_buffer_size" : 93,
      "min_buffer_size" : 22,
      "max_buffer_size" : 106
    },
    "data_dir_size" : 67109337,
    "log_dir_size" : 67109337,
    "provider_null" : false,
    "server_state" : "standalone",
    "last_processed_zxid" : 3,
    "outstanding_requests" : 0,
    "avg_latency" : 9.3636,
    "max_latency" : 87,
    "min_latency" : 0,
    "num_alive_client_connections" : 1,
    "uptime" : 62943,
    "auth_failed_count" : 0,
    "non_mtlsremote_conn_count" : 0,
    "non_mtlslocal_conn_count" : 0
  },
  "client_response" : {
    "last_buffer_size" : 93,
    "min_buffer_size" : 22,
    "max_buffer_size" : 106
  },
  "node_count" : 7,
  "connections" : [ {
    "remote_socket_address" : "127.0.0.1:54976",
    "interest_ops" : 1,
    "outstanding_requests" : 0,
    "packets_received" : 11,
    "packets_sent" : 11
  } ],
  "secure_connections" : [ ],
  "command" : "stats",
  "error" : null
}`

const apacheDumpJSON = `{
  "expiry_time_to_session_ids" : {
    "3622000" : [ 72057825795637248 ]
  },
  "session_id_to_ephemeral_paths" : {
    "72057825795637248" : [ "/a/e" ]
  },
  "command" : "dump",
  "error" : null
}`

// objectFromJSON rebuilds a decoded Apache answer as a jsonObject, keeping
// its key order, so that encoding it again can be compared byte for byte.
func objectFromJSON(t *testing.T, dec *json.Decoder) any {
	t.Helper()
	tok, err := dec.Token()
	if err != nil {
		t.Fatal(err)
	}
	switch tok := tok.(type) {
	case json.Delim:
		switch tok {
		case '{':
			o := newJSONObject()
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					t.Fatal(err)
				}
				o.put(k.(string), objectFromJSON(t, dec))
			}
			dec.Token()
			return o
		case '[':
			a := []any{}
			for dec.More() {
				a = append(a, objectFromJSON(t, dec))
			}
			dec.Token()
			return a
		}
	case json.Number:
		if n, err := tok.Int64(); err == nil {
			return n
		}
		f, _ := tok.Float64()
		return f
	case string, bool, nil:
		return tok
	}
	t.Fatalf("unexpected token %v", tok)
	return nil
}

func TestAdminJSONLayoutIsJacksons(t *testing.T) {
	for _, want := range []string{apacheStatsJSON, apacheDumpJSON} {
		dec := json.NewDecoder(strings.NewReader(want))
		dec.UseNumber()
		got := string(objectFromJSON(t, dec).(*jsonObject).encode())
		if got != want {
			t.Errorf("encoding differs from Jackson's:\n got: %s\nwant: %s", got, want)
		}
	}
	o := newJSONObject()
	o.put("s", "q\"b\\s/\x01\t\n\r\b\féü")
	o.put("f", []any{0.0, 1e7, 0.5, -2.0})
	o.put("empty", newJSONObject())
	o.put("objs", []any{newJSONObject(), newJSONObject()})
	o.put("s", "kept in place")
	want := `{
  "s" : "kept in place",
  "f" : [ 0.0, 1.0E7, 0.5, -2.0 ],
  "empty" : { },
  "objs" : [ { }, { } ]
}`
	if got := string(o.encode()); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	o = newJSONObject()
	o.put("s", "q\"b\\s/\x01\x1f\t\n\r\b\féü")
	if got, want := string(o.encode()), "{\n  \"s\" : \"q\\\"b\\\\s/\\u0001\\u001F\\t\\n\\r\\b\\féü\"\n}"; got != want {
		t.Errorf("escaping: got %s\nwant %s", got, want)
	}
}
