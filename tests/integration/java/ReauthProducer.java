// SPDX-License-Identifier: Apache-2.0
//
// A Java producer for tests/integration/13-sasl-reauth-java.py: Kafka's own
// client (kafka-clients from .cache/kafka/libs), one KafkaProducer per
// "label=properties-file=topic" argument, all in one JVM. Run as a Java 11+
// single-file program (no build step):
//
//   java -cp '.cache/kafka/libs/*' ReauthProducer.java INTERVAL_MS CLOSE_MS LABEL=PROPS=TOPIC...
//
// Every INTERVAL_MS each producer sends one record (each from its own thread), value "<label>-<i>", until
// stdin reaches end of file; then the producers are closed in order, each
// given at most CLOSE_MS for what it still has unacknowledged (which then
// fails). One line per event on
// stdout, times in epoch milliseconds (the broker log's clock):
//
//   SENT <label> <i> <ms>
//   ACK <label> <i> <partition> <offset> <ms>
//   ERR <label> <i> <ms> <exception class>: <message>
//   DONE <label> <sent> <acked> <failed>
//
// The client's own log (log4j2, WARN and up) goes to stderr.
import java.io.FileInputStream;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

public class ReauthProducer {
    static final Object OUT = new Object();

    static void say(String line) {
        synchronized (OUT) {
            System.out.println(line);
            System.out.flush();
        }
    }

    static final class One {
        final String label, topic;
        final KafkaProducer<String, String> producer;
        final AtomicInteger acked = new AtomicInteger(), failed = new AtomicInteger();
        int sent;

        One(String spec) throws Exception {
            String[] f = spec.split("=", 3);
            label = f[0];
            topic = f[2];
            Properties p = new Properties();
            try (InputStream in = new FileInputStream(f[1])) {
                p.load(in);
            }
            p.putIfAbsent("key.serializer", StringSerializer.class.getName());
            p.putIfAbsent("value.serializer", StringSerializer.class.getName());
            producer = new KafkaProducer<>(p);
        }

        void sendOne() {
            final int i = sent++;
            say("SENT " + label + " " + i + " " + System.currentTimeMillis());
            try {
                producer.send(new ProducerRecord<>(topic, label + "-" + i), (md, e) -> {
                    long now = System.currentTimeMillis();
                    if (e == null) {
                        acked.incrementAndGet();
                        say("ACK " + label + " " + i + " " + md.partition() + " " + md.offset() + " " + now);
                    } else {
                        failed.incrementAndGet();
                        say("ERR " + label + " " + i + " " + now + " " + e.getClass().getName() + ": "
                            + String.valueOf(e.getMessage()).replace('\n', ' '));
                    }
                });
            } catch (RuntimeException e) {
                failed.incrementAndGet();
                say("ERR " + label + " " + i + " " + System.currentTimeMillis() + " " + e.getClass().getName()
                    + ": " + String.valueOf(e.getMessage()).replace('\n', ' '));
            }
        }
    }

    public static void main(String[] args) throws Exception {
        long interval = Long.parseLong(args[0]);
        long closeMs = Long.parseLong(args[1]);
        List<One> all = new ArrayList<>();
        for (int k = 2; k < args.length; k++)
            all.add(new One(args[k]));
        // stdin's end of file is the signal to stop.
        Thread stdin = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                }
            } catch (Exception ignored) {
            }
        });
        stdin.setDaemon(true);
        stdin.start();
        // One sending thread per producer: a producer whose send() blocks
        // (its user deleted, no metadata) must not hold the others back.
        List<Thread> senders = new ArrayList<>();
        for (One o : all) {
            Thread t = new Thread(() -> {
                try {
                    while (stdin.isAlive()) {
                        o.sendOne();
                        Thread.sleep(interval);
                    }
                } catch (InterruptedException ignored) {
                }
            });
            t.start();
            senders.add(t);
        }
        for (Thread t : senders)
            t.join();
        for (One o : all) {
            o.producer.close(Duration.ofMillis(closeMs));
            say("DONE " + o.label + " " + o.sent + " " + o.acked.get() + " " + o.failed.get());
        }
    }
}
