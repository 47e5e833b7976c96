package conf

import "strings"

// knownKeys are the zoo.cfg keys that Apache ZooKeeper reads as system
// properties ("zookeeper."+key) and documents in its administrator's
// guide. A zoo.cfg key that is neither one of these, nor matches
// knownPrefixes, nor is a configuration key is reported in UnknownKeys.
var knownKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(`
		4lw.commands.whitelist snapCount snapSizeLimitInKb txnLogSizeLimitInKb
		forceSync jute.maxbuffer jute.maxbuffer.extrasize maxCnxns
		globalOutstandingLimit preAllocSize commitLogCount skipACL
		extendedTypesEnabled emulate353TTLNodes digest.enabled enforceQuota
		flushDelay maxWriteQueuePollTime maxBatchSize fsync.warningthresholdms
		cnxTimeout quorumCnxnTimeoutMs leaderServes electionPortBindRetry
		tcpKeepAlive clientTcpKeepAlive superUser sessionRequireClientSASLAuth
		serializeLastProcessedZxid.enabled largeRequestMaxBytes
		largeRequestThreshold maxResponseCacheSize maxGetChildrenResponseCacheSize
		watchManagerName watcherCleanThreshold watcherCleanIntervalInSeconds
		watcherCleanThreadsNum maxInProcessingDeadWatchers bitHashCacheSize
		fips-mode serverCnxnFactory clientCnxnSocket authProvider
		ensembleAuthName request_stale_connection_check request_stale_latency_check
		request_throttle_max_requests request_throttle_stall_time
		request_throttle_drop_stale throttled_op_wait_time
		connection_throttle_tokens connection_throttle_fill_time
		connection_throttle_fill_count connection_throttle_freeze_time
		connection_throttle_drop_increase connection_throttle_drop_decrease
		connection_throttle_decrease_ratio outstandingHandshake.limit
		advancedFlowControlEnabled enableEagerACLCheck
		follower.skipLearnerRequestToNextProcessor
		forward_learner_requests_to_commit_processor_disabled
		kerberos.canonicalizeHostNames kerberos.removeHostFromPrincipal
		kerberos.removeRealmFromPrincipal sslQuorum
		X509AuthenticationProvider.superUser sasl.serverconfig allowSaslFailedClients
		SASLAuthenticationProvider.superPassword
	`) {
		m[k] = true
	}
	return m
}()

// knownPrefixes are families of documented system properties.
var knownPrefixes = []string{
	"ssl.", "admin.", "authProvider.", "enforce.auth.",
	"fastleader.", "DigestAuthenticationProvider.", "IPAuthenticationProvider.",
	"X509AuthenticationProvider.", "audit.", "netty.", "observer.", "leader.",
	"learner.", "commitProcessor.", "nio.", "messageTracker.", "snapshot.",
	"client.",
}

// knownProperty reports whether zoo.cfg key k is a documented Apache
// ZooKeeper system property (zookeeper.k).
func knownProperty(k string) bool {
	if knownKeys[k] {
		return true
	}
	for _, p := range knownPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}
