package zab

import "fmt"

// A zxid is a transaction id: the leader's epoch in the high 32 bits and a
// counter, starting at 1 in every epoch, in the low 32 bits. Zxid 0 is the
// empty history.

// counterMask selects the counter half of a zxid.
const counterMask = 0xffffffff

// MakeZxid returns the zxid of the counter'th transaction of epoch.
func MakeZxid(epoch int64, counter uint32) int64 { return epoch<<32 | int64(counter) }

// EpochOf returns the epoch half of zxid.
func EpochOf(zxid int64) int64 { return zxid >> 32 }

// CounterOf returns the counter half of zxid.
func CounterOf(zxid int64) uint32 { return uint32(zxid & counterMask) }

// ZxidString formats zxid as Apache ZooKeeper logs it: 0x<hex>.
func ZxidString(zxid int64) string { return fmt.Sprintf("0x%x", zxid) }
