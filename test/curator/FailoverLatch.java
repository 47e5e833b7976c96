import java.io.InputStream;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * A Curator LeaderLatch held through a leader failover (failover_test.go).
 *
 * <p>Usage: java FailoverLatch 127.0.0.1:PORT LATCHPATH
 *
 * <p>It takes the latch on the one server given and prints "leader" once it
 * holds it, "state NAME" for every connection state change after that,
 * "notleader" if it loses the latch, and once its stdin closes "holds
 * true|false", then exits.
 */
public class FailoverLatch {
    public static void main(String[] args) throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(args[0])
                .sessionTimeoutMs(10000)
                .connectionTimeoutMs(10000)
                .retryPolicy(new ExponentialBackoffRetry(100, 10))
                .build();
        client.start();
        if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
            System.out.println("no connection");
            System.exit(1);
        }
        LeaderLatch latch = new LeaderLatch(client, args[1]);
        latch.addListener(new LeaderLatchListener() {
            public void isLeader() {}

            public void notLeader() {
                System.out.println("notleader");
                System.out.flush();
            }
        });
        latch.start();
        if (!latch.await(30, TimeUnit.SECONDS)) {
            System.out.println("not elected");
            System.exit(1);
        }
        client.getConnectionStateListenable().addListener((c, state) -> {
            System.out.println("state " + state);
            System.out.flush();
        });
        System.out.println("leader");
        System.out.flush();
        InputStream in = System.in;
        while (in.read() >= 0) {
        }
        System.out.println("holds " + latch.hasLeadership());
        System.out.flush();
        latch.close();
        client.close();
    }
}
