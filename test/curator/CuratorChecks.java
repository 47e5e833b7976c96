// CuratorChecks runs Apache Curator's recipes (Debian's libcurator-*-java,
// Curator 5.4, on Apache ZooKeeper's own 3.8 client) against the servers
// named on the command line and prints one line per check, "ok   <name>" or
// "FAIL <name>: <reason>", then "N passed, N failed". Its clients connect
// to the servers in turn (the first client to the first server, the second
// to the second, ...), so that against an ensemble the recipes' watches and
// ephemeral nodes cross servers.
//
//   java -cp <curator and zookeeper jars>:. CuratorChecks 127.0.0.1:2181[,127.0.0.1:2182...] [check...]
//
// With check names after the servers, only those checks run. test/curator_test.go
// compiles and runs it.

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.api.transaction.OperationType;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.atomic.PromotedToLock;
import org.apache.curator.framework.recipes.barriers.DistributedBarrier;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.TreeCache;
import org.apache.curator.framework.recipes.cache.TreeCacheEvent;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.recipes.queue.SimpleDistributedQueue;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.SharedCountListener;
import org.apache.curator.framework.recipes.shared.SharedCountReader;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

public class CuratorChecks {
    /** How long one check may take before it counts as failed. */
    static final long CHECK_TIMEOUT_S = 90;
    /** How long a check waits for one thing to happen. */
    static final long WAIT_S = 30;
    /** How long a check waits for something that must not happen. */
    static final long ABSENT_MS = 300;

    /** A check throws (AssertionError or any exception) when it fails. */
    interface Check {
        void run(Clients c) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: CuratorChecks host:port[,host:port...] [check...]");
            System.exit(2);
        }
        String[] servers = args[0].split(",");
        Map<String, Check> checks = new LinkedHashMap<>();
        checks.put("mutex", CuratorChecks::mutex);
        checks.put("mutex-handover-on-close", CuratorChecks::mutexHandover);
        checks.put("read-write-lock", CuratorChecks::readWriteLock);
        checks.put("semaphore", CuratorChecks::semaphore);
        checks.put("leader-latch", CuratorChecks::leaderLatch);
        checks.put("leader-selector", CuratorChecks::leaderSelector);
        checks.put("curator-cache", CuratorChecks::curatorCache);
        checks.put("tree-cache", CuratorChecks::treeCache);
        checks.put("barrier", CuratorChecks::barrier);
        checks.put("double-barrier", CuratorChecks::doubleBarrier);
        checks.put("distributed-queue", CuratorChecks::distributedQueue);
        checks.put("simple-queue", CuratorChecks::simpleQueue);
        checks.put("atomic-long", CuratorChecks::atomicLong);
        checks.put("shared-count", CuratorChecks::sharedCount);
        checks.put("transaction", CuratorChecks::transaction);
        checks.put("transaction-rollback", CuratorChecks::transactionRollback);

        List<String> names = new ArrayList<>(checks.keySet());
        if (args.length > 1) {
            names = List.of(args).subList(1, args.length);
        }
        int passed = 0, failed = 0;
        ExecutorService runner = Executors.newCachedThreadPool(daemonThreads());
        for (String name : names) {
            Check check = checks.get(name);
            String failure;
            if (check == null) {
                failure = "no such check";
            } else {
                failure = runOne(runner, servers, name, check);
            }
            if (failure == null) {
                passed++;
                System.out.println("ok   " + name);
            } else {
                failed++;
                System.out.println("FAIL " + name + ": " + failure.replace('\n', ' '));
            }
            System.out.flush();
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.out.flush();
        // Threads a hung check left behind are daemons; Curator's are not
        // all, so exit explicitly.
        System.exit(failed == 0 ? 0 : 1);
    }

    /** Runs one check in its own namespace and returns null or why it failed. */
    static String runOne(ExecutorService runner, String[] servers, String name, Check check) {
        Clients c = new Clients(servers, "/curator-checks/" + name);
        Future<?> f = runner.submit(() -> {
            check.run(c);
            return null;
        });
        try {
            f.get(CHECK_TIMEOUT_S, TimeUnit.SECONDS);
            return null;
        } catch (TimeoutException e) {
            f.cancel(true);
            return "did not finish within " + CHECK_TIMEOUT_S + "s";
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            return cause.getClass().getSimpleName() + ": " + cause.getMessage();
        } catch (InterruptedException e) {
            return "interrupted";
        } finally {
            c.close();
        }
    }

    static java.util.concurrent.ThreadFactory daemonThreads() {
        return r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Clients hands out Curator clients, each connected to the next server
     * in turn, and closes those still open when the check ends.
     */
    static final class Clients {
        final String[] servers;
        /** The check's own parent znode. */
        final String root;
        final List<CuratorFramework> open = Collections.synchronizedList(new ArrayList<>());
        int next;

        Clients(String[] servers, String root) {
            this.servers = servers;
            this.root = root;
        }

        /** A started, connected client. */
        CuratorFramework get() throws InterruptedException {
            String server;
            synchronized (this) {
                server = servers[next++ % servers.length];
            }
            CuratorFramework client = CuratorFrameworkFactory.newClient(server, 15000, 15000,
                    new ExponentialBackoffRetry(100, 10));
            open.add(client);
            client.start();
            if (!client.blockUntilConnected((int) WAIT_S, TimeUnit.SECONDS)) {
                throw new AssertionError("could not connect to " + server);
            }
            return client;
        }

        /** The path of name under the check's root. */
        String path(String name) {
            return root + "/" + name;
        }

        void close() {
            List<CuratorFramework> all;
            synchronized (open) {
                all = new ArrayList<>(open);
            }
            for (CuratorFramework client : all) {
                client.close();
            }
        }
    }

    static void check(boolean cond, String what) {
        if (!cond) {
            throw new AssertionError(what);
        }
    }

    static void eventually(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + WAIT_S + "s: " + what);
            }
            Thread.sleep(20);
        }
    }

    static void await(CountDownLatch latch, String what) throws InterruptedException {
        check(latch.await(WAIT_S, TimeUnit.SECONDS), "not within " + WAIT_S + "s: " + what);
    }

    static <T> T take(BlockingQueue<T> q, String what) throws InterruptedException {
        T v = q.poll(WAIT_S, TimeUnit.SECONDS);
        check(v != null, "not within " + WAIT_S + "s: " + what);
        return v;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    /**
     * Has client's server catch up with the leader (ZooKeeper's sync, which
     * Curator sends in the background) before a plain read that must see
     * other clients' writes: against an ensemble they may have gone
     * through another server.
     */
    static void catchUp(CuratorFramework client) throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        client.sync().inBackground((cf, event) -> done.countDown()).forPath("/");
        await(done, "sync");
    }

    // mutex: InterProcessMutex excludes other clients and other threads,
    // is reentrant, and a timed acquire fails while another holds it.
    static void mutex(Clients c) throws Exception {
        String path = c.path("lock");
        CuratorFramework a = c.get(), b = c.get();
        InterProcessMutex la = new InterProcessMutex(a, path);
        InterProcessMutex lb = new InterProcessMutex(b, path);
        la.acquire();
        la.acquire();
        check(la.isOwnedByCurrentThread(), "holder does not own the lock");
        check(!lb.acquire(ABSENT_MS, TimeUnit.MILLISECONDS), "second client acquired a held lock");
        la.release();
        check(!lb.acquire(ABSENT_MS, TimeUnit.MILLISECONDS), "second client acquired a lock still held once (reentrant)");
        la.release();
        check(lb.acquire(WAIT_S, TimeUnit.SECONDS), "second client could not acquire a released lock");
        lb.release();

        // Four clients, two threads each, 5 rounds: never two inside.
        int clients = 4, threads = 2, rounds = 5;
        AtomicInteger inside = new AtomicInteger(), overlaps = new AtomicInteger(), entries = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(clients * threads, daemonThreads());
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            CuratorFramework client = c.get();
            for (int j = 0; j < threads; j++) {
                futures.add(pool.submit(() -> {
                    InterProcessMutex m = new InterProcessMutex(client, path);
                    for (int r = 0; r < rounds; r++) {
                        check(m.acquire(WAIT_S, TimeUnit.SECONDS), "could not acquire the contended lock");
                        try {
                            if (inside.incrementAndGet() != 1) {
                                overlaps.incrementAndGet();
                            }
                            entries.incrementAndGet();
                            Thread.sleep(2);
                            inside.decrementAndGet();
                        } finally {
                            m.release();
                        }
                    }
                    return null;
                }));
            }
        }
        for (Future<?> f : futures) {
            f.get(CHECK_TIMEOUT_S, TimeUnit.SECONDS);
        }
        pool.shutdown();
        check(overlaps.get() == 0, overlaps.get() + " times two holders at once");
        check(entries.get() == clients * threads * rounds, "entries " + entries.get());
        catchUp(b);
        check(b.getChildren().forPath(path).isEmpty(), "lock nodes left behind: " + b.getChildren().forPath(path));
    }

    // mutex-handover-on-close: a client blocked on a lock gets it when the
    // holder's session ends (client closed: its ephemeral node goes).
    static void mutexHandover(Clients c) throws Exception {
        String path = c.path("lock");
        CuratorFramework a = c.get(), b = c.get();
        InterProcessMutex la = new InterProcessMutex(a, path);
        la.acquire();
        CountDownLatch got = new CountDownLatch(1);
        Thread waiter = new Thread(() -> {
            try {
                if (new InterProcessMutex(b, path).acquire(WAIT_S, TimeUnit.SECONDS)) {
                    got.countDown();
                }
            } catch (Exception e) {
                // got stays at 1: the check fails.
            }
        });
        waiter.setDaemon(true);
        waiter.start();
        eventually(() -> childCount(b, path) == 2, "the waiter's lock node");
        check(got.getCount() == 1, "waiter acquired a held lock");
        a.close();
        await(got, "waiter acquires after the holder's client closed");
    }

    static int childCount(CuratorFramework client, String path) {
        try {
            return client.getChildren().forPath(path).size();
        } catch (Exception e) {
            return -1;
        }
    }

    // read-write-lock: readers share, a writer excludes readers and writers,
    // and a waiting writer gets the lock when the readers release.
    static void readWriteLock(Clients c) throws Exception {
        String path = c.path("rw");
        CuratorFramework a = c.get(), b = c.get(), w = c.get();
        InterProcessReadWriteLock ra = new InterProcessReadWriteLock(a, path);
        InterProcessReadWriteLock rb = new InterProcessReadWriteLock(b, path);
        InterProcessReadWriteLock rw = new InterProcessReadWriteLock(w, path);
        check(ra.readLock().acquire(WAIT_S, TimeUnit.SECONDS), "first reader");
        check(rb.readLock().acquire(WAIT_S, TimeUnit.SECONDS), "second reader while the first reads");
        check(!rw.writeLock().acquire(ABSENT_MS, TimeUnit.MILLISECONDS), "writer acquired while two read");
        ra.readLock().release();
        check(!rw.writeLock().acquire(ABSENT_MS, TimeUnit.MILLISECONDS), "writer acquired while one reads");
        CountDownLatch wrote = new CountDownLatch(1);
        Thread writer = new Thread(() -> {
            try {
                if (rw.writeLock().acquire(WAIT_S, TimeUnit.SECONDS)) {
                    wrote.countDown();
                }
            } catch (Exception e) {
                // wrote stays at 1.
            }
        });
        writer.setDaemon(true);
        writer.start();
        rb.readLock().release();
        await(wrote, "writer acquires when the readers released");
        check(!ra.readLock().acquire(ABSENT_MS, TimeUnit.MILLISECONDS), "reader acquired while a writer writes");
        check(!rb.writeLock().acquire(ABSENT_MS, TimeUnit.MILLISECONDS), "second writer acquired while one writes");
    }

    // semaphore: InterProcessSemaphoreV2 hands out at most its leases, and
    // a returned lease goes to the next.
    static void semaphore(Clients c) throws Exception {
        String path = c.path("sem");
        CuratorFramework a = c.get(), b = c.get();
        InterProcessSemaphoreV2 sa = new InterProcessSemaphoreV2(a, path, 2);
        InterProcessSemaphoreV2 sb = new InterProcessSemaphoreV2(b, path, 2);
        Lease l1 = sa.acquire(WAIT_S, TimeUnit.SECONDS);
        Lease l2 = sb.acquire(WAIT_S, TimeUnit.SECONDS);
        check(l1 != null && l2 != null, "two leases of two");
        check(sb.acquire(ABSENT_MS, TimeUnit.MILLISECONDS) == null, "a third lease of two");
        sa.returnLease(l1);
        Lease l3 = sb.acquire(WAIT_S, TimeUnit.SECONDS);
        check(l3 != null, "a lease after one was returned");
        sb.returnLease(l2);
        sb.returnLease(l3);
    }

    // leader-latch: of three latches exactly one leads and all agree on
    // which; when it closes, another leads; when that one's client closes
    // (its session ends), the last one leads.
    static void leaderLatch(Clients c) throws Exception {
        String path = c.path("latch");
        List<LeaderLatch> latches = new ArrayList<>();
        Map<LeaderLatch, CuratorFramework> clients = new java.util.HashMap<>();
        for (int i = 0; i < 3; i++) {
            CuratorFramework client = c.get();
            LeaderLatch l = new LeaderLatch(client, path, "p" + i);
            l.start();
            latches.add(l);
            clients.put(l, client);
        }
        for (int round = 0; round < 3; round++) {
            List<LeaderLatch> live = latches;
            eventually(() -> leaders(live).size() == 1, "exactly one leader of " + live.size());
            LeaderLatch leader = leaders(live).get(0);
            for (LeaderLatch l : live) {
                eventually(() -> leaderId(l).equals(leader.getId()), l.getId() + " sees leader " + leader.getId());
                eventually(() -> participants(l) == live.size(), l.getId() + " sees " + live.size() + " participants");
            }
            if (round == 0) {
                leader.close();
                check(!leader.hasLeadership(), "a closed latch still leads");
            } else {
                clients.get(leader).close();
            }
            latches = new ArrayList<>(live);
            latches.remove(leader);
        }
    }

    static int participants(LeaderLatch l) {
        try {
            return l.getParticipants().size();
        } catch (Exception e) {
            return -1;
        }
    }

    static int participants(LeaderSelector s) {
        try {
            return s.getParticipants().size();
        } catch (Exception e) {
            return -1;
        }
    }

    static String leaderId(LeaderLatch l) {
        try {
            return l.getLeader().getId();
        } catch (Exception e) {
            return "(" + e + ")";
        }
    }

    static List<LeaderLatch> leaders(List<LeaderLatch> latches) {
        List<LeaderLatch> out = new ArrayList<>();
        for (LeaderLatch l : latches) {
            if (l.hasLeadership()) {
                out.add(l);
            }
        }
        return out;
    }

    // leader-selector: three selectors with autoRequeue take leadership one
    // at a time; a leader giving it up hands over (and requeues), a leader
    // whose selector closes hands over.
    static void leaderSelector(Clients c) throws Exception {
        String path = c.path("selector");
        AtomicInteger leading = new AtomicInteger(), overlaps = new AtomicInteger();
        BlockingQueue<String> took = new LinkedBlockingQueue<>();
        Map<String, CountDownLatch> release = new java.util.concurrent.ConcurrentHashMap<>();
        Map<String, LeaderSelector> selectors = new LinkedHashMap<>();
        for (int i = 0; i < 3; i++) {
            String id = "s" + i;
            CuratorFramework client = c.get();
            LeaderSelector s = new LeaderSelector(client, path, new LeaderSelectorListenerAdapter() {
                @Override
                public void takeLeadership(CuratorFramework cf) throws Exception {
                    if (leading.incrementAndGet() != 1) {
                        overlaps.incrementAndGet();
                    }
                    CountDownLatch done = new CountDownLatch(1);
                    release.put(id, done);
                    took.add(id);
                    try {
                        done.await();
                    } finally {
                        leading.decrementAndGet();
                    }
                }
            });
            s.setId(id);
            s.autoRequeue();
            selectors.put(id, s);
        }
        for (LeaderSelector s : selectors.values()) {
            s.start();
        }
        String first = take(took, "a first leader");
        check(selectors.get(first).getLeader().getId().equals(first), "getLeader is not the one leading");
        // Give up leadership once the other two are in line (they start in
        // the background): someone else leads, and autoRequeue puts first
        // back in line behind them.
        eventually(() -> participants(selectors.get(first)) == 3, "three selectors in line");
        release.get(first).countDown();
        String second = take(took, "a leader after the first gave up");
        check(!second.equals(first), "the leader that gave up led again at once");
        // Close the leader's selector: its leadership ends and another leads.
        selectors.remove(second).close();
        String third = take(took, "a leader after the second's selector closed");
        check(!third.equals(second), "a closed selector leads");
        // first, requeued, is in line again before third gives up.
        eventually(() -> participants(selectors.get(third)) == 2, "two selectors in line");
        release.get(third).countDown();
        String fourth = take(took, "a leader after the third gave up");
        check(!fourth.equals(second) && !fourth.equals(third), "leader " + fourth + " after " + second + " closed and " + third + " gave up");
        check(overlaps.get() == 0, overlaps.get() + " times two leaders at once");
        for (LeaderSelector s : selectors.values()) {
            s.close();
        }
    }

    // curator-cache: CuratorCache (persistent recursive watches on
    // ZooKeeper 3.6+) sees the initial tree, then creates, changes and
    // deletes made by another client, deep ones too, in order.
    static void curatorCache(Clients c) throws Exception {
        String path = c.path("cache");
        CuratorFramework a = c.get(), w = c.get();
        w.create().creatingParentsIfNeeded().forPath(path + "/pre", bytes("p"));
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        CountDownLatch initialized = new CountDownLatch(1);
        CuratorCache cache = CuratorCache.build(a, path);
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreates(d -> events.add("create " + d.getPath() + " " + str(d.getData())))
                .forChanges((old, now) -> events.add("change " + now.getPath() + " " + str(old.getData()) + "->" + str(now.getData())))
                .forDeletes(d -> events.add("delete " + d.getPath()))
                .forInitialized(initialized::countDown)
                .build());
        cache.start();
        try {
            await(initialized, "cache initialized");
            List<String> initial = new ArrayList<>();
            events.drainTo(initial);
            Collections.sort(initial);
            check(initial.equals(List.of("create " + path + " ", "create " + path + "/pre p")),
                    "initial events " + initial);
            Optional<ChildData> pre = cache.get(path + "/pre");
            check(pre.isPresent() && "p".equals(str(pre.get().getData())), "cache.get of the initial child");

            w.create().forPath(path + "/x", bytes("1"));
            check(take(events, "create x").equals("create " + path + "/x 1"), "event for create x");
            w.setData().forPath(path + "/x", bytes("2"));
            check(take(events, "change x").equals("change " + path + "/x 1->2"), "event for setData x");
            w.create().forPath(path + "/x/deep", bytes("d"));
            check(take(events, "create x/deep").equals("create " + path + "/x/deep d"), "event for deep create");
            w.delete().forPath(path + "/x/deep");
            check(take(events, "delete x/deep").equals("delete " + path + "/x/deep"), "event for deep delete");
            w.delete().forPath(path + "/x");
            check(take(events, "delete x").equals("delete " + path + "/x"), "event for delete x");
            eventually(() -> cache.size() == 2, "cache holds the root and pre (size " + cache.size() + ")");
            String extra = events.poll(ABSENT_MS, TimeUnit.MILLISECONDS);
            check(extra == null, "unexpected event " + extra);
        } finally {
            cache.close();
        }
    }

    // tree-cache: TreeCache builds the tree, reports INITIALIZED, then
    // adds, updates and removes made by another client, at depth.
    static void treeCache(Clients c) throws Exception {
        String path = c.path("tree");
        CuratorFramework a = c.get(), w = c.get();
        w.create().creatingParentsIfNeeded().forPath(path + "/a/b", bytes("ab"));
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        TreeCache cache = TreeCache.newBuilder(a, path).build();
        cache.getListenable().addListener((client, ev) -> {
            if (ev.getType() == TreeCacheEvent.Type.INITIALIZED) {
                events.add("initialized");
            } else if (ev.getData() != null) {
                events.add(ev.getType() + " " + ev.getData().getPath() + " " + str(ev.getData().getData()));
            }
        });
        cache.start();
        try {
            List<String> initial = new ArrayList<>();
            for (String e = take(events, "INITIALIZED"); !e.equals("initialized"); e = take(events, "INITIALIZED")) {
                initial.add(e);
            }
            Collections.sort(initial);
            check(initial.equals(List.of("NODE_ADDED " + path + " ", "NODE_ADDED " + path + "/a ", "NODE_ADDED " + path + "/a/b ab")),
                    "initial events " + initial);
            check(cache.getCurrentChildren(path + "/a").keySet().equals(java.util.Set.of("b")), "children of a");

            w.create().forPath(path + "/a/c", bytes("ac"));
            check(take(events, "add a/c").equals("NODE_ADDED " + path + "/a/c ac"), "event for create a/c");
            w.setData().forPath(path + "/a/b", bytes("ab2"));
            check(take(events, "update a/b").equals("NODE_UPDATED " + path + "/a/b ab2"), "event for setData a/b");
            w.delete().forPath(path + "/a/c");
            check(take(events, "remove a/c").equals("NODE_REMOVED " + path + "/a/c ac"), "event for delete a/c");
            ChildData b = cache.getCurrentData(path + "/a/b");
            check(b != null && "ab2".equals(str(b.getData())), "current data of a/b");
            check(cache.getCurrentData(path + "/a/c") == null, "a/c still cached");
        } finally {
            cache.close();
        }
    }

    // barrier: waiters block while the barrier is set and all go on when
    // another client removes it.
    static void barrier(Clients c) throws Exception {
        String path = c.path("barrier");
        CuratorFramework owner = c.get();
        DistributedBarrier set = new DistributedBarrier(owner, path);
        set.setBarrier();
        int waiters = 3;
        CountDownLatch passed = new CountDownLatch(waiters);
        for (int i = 0; i < waiters; i++) {
            CuratorFramework client = c.get();
            catchUp(client);
            DistributedBarrier b = new DistributedBarrier(client, path);
            Thread t = new Thread(() -> {
                try {
                    if (b.waitOnBarrier(WAIT_S, TimeUnit.SECONDS)) {
                        passed.countDown();
                    }
                } catch (Exception e) {
                    // passed stays above 0.
                }
            });
            t.setDaemon(true);
            t.start();
        }
        CuratorFramework late = c.get();
        catchUp(late);
        check(!new DistributedBarrier(late, path).waitOnBarrier(ABSENT_MS, TimeUnit.MILLISECONDS), "passed a set barrier");
        check(passed.getCount() == waiters, "a waiter passed a set barrier");
        set.removeBarrier();
        await(passed, "every waiter passes the removed barrier");
    }

    // double-barrier: no member gets through enter() before all three have
    // entered, nor through leave() before all three leave.
    static void doubleBarrier(Clients c) throws Exception {
        String path = c.path("double");
        int members = 3;
        AtomicInteger entering = new AtomicInteger(), leaving = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(members, daemonThreads());
        List<Future<String>> results = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            CuratorFramework client = c.get();
            int delay = 100 * i;
            results.add(pool.submit((Callable<String>) () -> {
                DistributedDoubleBarrier b = new DistributedDoubleBarrier(client, path, members);
                Thread.sleep(delay);
                entering.incrementAndGet();
                if (!b.enter(WAIT_S, TimeUnit.SECONDS)) {
                    return "enter timed out";
                }
                if (entering.get() != members) {
                    return "entered with " + entering.get() + " of " + members + " arrived";
                }
                Thread.sleep(delay);
                leaving.incrementAndGet();
                if (!b.leave(WAIT_S, TimeUnit.SECONDS)) {
                    return "leave timed out";
                }
                if (leaving.get() != members) {
                    return "left with " + leaving.get() + " of " + members + " leaving";
                }
                return "";
            }));
        }
        for (Future<String> f : results) {
            String r = f.get(CHECK_TIMEOUT_S, TimeUnit.SECONDS);
            check(r.isEmpty(), r);
        }
        pool.shutdown();
    }

    static final QueueSerializer<String> STRINGS = new QueueSerializer<>() {
        @Override
        public byte[] serialize(String item) {
            return bytes(item);
        }

        @Override
        public String deserialize(byte[] b) {
            return str(b);
        }
    };

    // distributed-queue: items put by two producers reach one consumer on
    // another client, each once and each producer's in order.
    static void distributedQueue(Clients c) throws Exception {
        String path = c.path("queue");
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        QueueConsumer<String> consumer = new QueueConsumer<>() {
            @Override
            public void consumeMessage(String item) {
                got.add(item);
            }

            @Override
            public void stateChanged(CuratorFramework client, ConnectionState state) {
            }
        };
        DistributedQueue<String> consuming = QueueBuilder.builder(c.get(), consumer, STRINGS, path).buildQueue();
        consuming.start();
        List<DistributedQueue<String>> producers = new ArrayList<>();
        for (int p = 0; p < 2; p++) {
            DistributedQueue<String> q = QueueBuilder.builder(c.get(), null, STRINGS, path).buildQueue();
            q.start();
            producers.add(q);
        }
        int items = 20;
        for (int i = 0; i < items; i++) {
            for (int p = 0; p < producers.size(); p++) {
                producers.get(p).put(p + ":" + i);
            }
        }
        int[] nextOf = new int[producers.size()];
        for (int n = 0; n < items * producers.size(); n++) {
            String item = take(got, "item " + n + " of " + items * producers.size());
            String[] f = item.split(":");
            int p = Integer.parseInt(f[0]), i = Integer.parseInt(f[1]);
            check(i == nextOf[p], "producer " + p + ": got item " + i + ", want " + nextOf[p]);
            nextOf[p]++;
        }
        String extra = got.poll(ABSENT_MS, TimeUnit.MILLISECONDS);
        check(extra == null, "item consumed twice or unknown: " + extra);
        for (DistributedQueue<String> q : producers) {
            q.close();
        }
        consuming.close();
    }

    // simple-queue: SimpleDistributedQueue (ZooKeeper's queue recipe) is
    // FIFO across clients, and take() blocks until an offer.
    static void simpleQueue(Clients c) throws Exception {
        String path = c.path("simple");
        SimpleDistributedQueue producer = new SimpleDistributedQueue(c.get(), path);
        CuratorFramework consuming = c.get();
        SimpleDistributedQueue consumer = new SimpleDistributedQueue(consuming, path);
        check(consumer.poll(ABSENT_MS, TimeUnit.MILLISECONDS) == null, "an item from an empty queue");
        for (int i = 0; i < 10; i++) {
            check(producer.offer(bytes("item" + i)), "offer " + i);
        }
        catchUp(consuming);
        check("item0".equals(str(consumer.peek())), "peek is the first item");
        for (int i = 0; i < 10; i++) {
            String item = str(consumer.take());
            check(("item" + i).equals(item), "took " + item + ", want item" + i);
        }
        BlockingQueue<String> took = new LinkedBlockingQueue<>();
        Thread t = new Thread(() -> {
            try {
                took.add(str(consumer.take()));
            } catch (Exception e) {
                took.add("error: " + e);
            }
        });
        t.setDaemon(true);
        t.start();
        check(took.poll(ABSENT_MS, TimeUnit.MILLISECONDS) == null, "take returned from an empty queue");
        producer.offer(bytes("late"));
        check("late".equals(take(took, "blocked take gets a later offer")), "blocked take got the wrong item");
    }

    // atomic-long: DistributedAtomicLong increments from many clients and
    // threads add up exactly, and compareAndSet fails on a stale value.
    static void atomicLong(Clients c) throws Exception {
        String path = c.path("long");
        int clients = 3, threads = 2, increments = 10;
        ExecutorService pool = Executors.newFixedThreadPool(clients * threads, daemonThreads());
        List<Future<Integer>> futures = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            CuratorFramework client = c.get();
            for (int j = 0; j < threads; j++) {
                futures.add(pool.submit(() -> {
                    DistributedAtomicLong n = new DistributedAtomicLong(client, path, new RetryNTimes(100, 5),
                            PromotedToLock.builder().lockPath(path + "-lock").retryPolicy(new RetryNTimes(100, 5))
                                    .timeout(WAIT_S, TimeUnit.SECONDS).build());
                    int ok = 0;
                    for (int k = 0; k < increments; k++) {
                        if (n.increment().succeeded()) {
                            ok++;
                        }
                    }
                    return ok;
                }));
            }
        }
        int succeeded = 0;
        for (Future<Integer> f : futures) {
            succeeded += f.get(CHECK_TIMEOUT_S, TimeUnit.SECONDS);
        }
        pool.shutdown();
        int want = clients * threads * increments;
        check(succeeded == want, succeeded + " of " + want + " increments succeeded");
        CuratorFramework readerClient = c.get();
        catchUp(readerClient);
        DistributedAtomicLong reader = new DistributedAtomicLong(readerClient, path, new RetryNTimes(3, 10));
        AtomicValue<Long> v = reader.get();
        check(v.succeeded() && v.postValue() == want, "value " + v.postValue() + ", want " + want);
        check(!reader.compareAndSet((long) want - 1, 0L).succeeded(), "compareAndSet with a stale value succeeded");
        AtomicValue<Long> cas = reader.compareAndSet((long) want, 7L);
        check(cas.succeeded() && cas.preValue() == want && cas.postValue() == 7, "compareAndSet with the current value");
    }

    // shared-count: a SharedCount change reaches another client's listener,
    // and trySetCount with a stale version fails.
    static void sharedCount(Clients c) throws Exception {
        String path = c.path("count");
        SharedCount a = new SharedCount(c.get(), path, 0);
        SharedCount b = new SharedCount(c.get(), path, 0);
        BlockingQueue<Integer> seen = new LinkedBlockingQueue<>();
        b.addListener(new SharedCountListener() {
            @Override
            public void countHasChanged(SharedCountReader reader, int newCount) {
                seen.add(newCount);
            }

            @Override
            public void stateChanged(CuratorFramework client, ConnectionState state) {
            }
        });
        a.start();
        b.start();
        try {
            a.setCount(5);
            check(take(seen, "the other client sees 5") == 5, "listener value");
            eventually(() -> b.getCount() == 5, "getCount on the other client is 5");
            VersionedValue<Integer> stale = b.getVersionedValue();
            check(b.trySetCount(stale, 6), "trySetCount with the current version");
            eventually(() -> a.getCount() == 6, "the first client sees 6");
            check(!b.trySetCount(stale, 8), "trySetCount with a stale version succeeded");
            check(a.getCount() == 6 && b.getCount() == 6, "count after the failed trySetCount: " + a.getCount() + " " + b.getCount());
        } finally {
            a.close();
            b.close();
        }
    }

    // transaction: a multi of create, setData, check and delete commits
    // all at once, with one result per operation.
    static void transaction(Clients c) throws Exception {
        String path = c.path("txn");
        CuratorFramework client = c.get();
        client.create().creatingParentsIfNeeded().forPath(path + "/old", bytes("o"));
        client.create().forPath(path + "/gone");
        Stat st = client.checkExists().forPath(path + "/old");
        List<CuratorOp> ops = List.of(
                client.transactionOp().create().forPath(path + "/new", bytes("n")),
                client.transactionOp().check().withVersion(st.getVersion()).forPath(path + "/old"),
                client.transactionOp().setData().withVersion(st.getVersion()).forPath(path + "/old", bytes("o2")),
                client.transactionOp().delete().forPath(path + "/gone"));
        List<CuratorTransactionResult> results = client.transaction().forOperations(ops);
        check(results.size() == 4, results.size() + " results for 4 operations");
        OperationType[] want = {OperationType.CREATE, OperationType.CHECK, OperationType.SET_DATA, OperationType.DELETE};
        for (int i = 0; i < want.length; i++) {
            check(results.get(i).getType() == want[i], "result " + i + " is " + results.get(i).getType());
        }
        check((path + "/new").equals(results.get(0).getResultPath()), "created path " + results.get(0).getResultPath());
        check(results.get(2).getResultStat().getVersion() == st.getVersion() + 1, "setData's stat version");
        CuratorFramework other = c.get();
        catchUp(other);
        check("n".equals(str(other.getData().forPath(path + "/new"))), "new node's data");
        check("o2".equals(str(other.getData().forPath(path + "/old"))), "set node's data");
        check(other.checkExists().forPath(path + "/gone") == null, "deleted node exists");
    }

    // transaction-rollback: a multi whose last operation fails changes
    // nothing and fails with that operation's error.
    static void transactionRollback(Clients c) throws Exception {
        String path = c.path("txn");
        CuratorFramework client = c.get();
        client.create().creatingParentsIfNeeded().forPath(path + "/old", bytes("o"));
        List<CuratorOp> ops = List.of(
                client.transactionOp().create().forPath(path + "/new", bytes("n")),
                client.transactionOp().setData().forPath(path + "/old", bytes("o2")),
                client.transactionOp().check().withVersion(42).forPath(path + "/old"));
        try {
            client.transaction().forOperations(ops);
            throw new AssertionError("a transaction with a failing check committed");
        } catch (KeeperException.BadVersionException e) {
            // expected
        }
        check(client.checkExists().forPath(path + "/new") == null, "the failed transaction's create was applied");
        check("o".equals(str(client.getData().forPath(path + "/old"))), "the failed transaction's setData was applied");
        try {
            client.transaction().forOperations(List.of(
                    client.transactionOp().create().forPath(path + "/a"),
                    client.transactionOp().create().forPath(path + "/old")));
            throw new AssertionError("a transaction creating an existing node committed");
        } catch (KeeperException.NodeExistsException e) {
            // expected
        }
        check(client.checkExists().forPath(path + "/a") == null, "the failed transaction's first create was applied");
    }
}
