/**
 * A consumer run as its own process by test/amqp.test.ts (started with the same
 * runtime as the test), killed there with SIGKILL in the middle of its work.
 * Arguments: url queue results.
 *
 * For each message it publishes `handled <content>` to the `results` queue,
 * waits for the broker's confirm, waits a little, then acknowledges the
 * message: a message it was handling when killed was handled and never
 * acknowledged, and the broker must deliver it again to the survivors.
 */
import { connect } from "amqplib";
import { fromAmqpQueue } from "../src/amqp/mod.ts";

const [url, queue, results] = process.argv.slice(2) as [string, string, string];
const connection = await connect(url);
connection.on("error", () => {});
const consumer = await connection.createChannel();
const reporter = await connection.createConfirmChannel();
console.log("ready");
for await (const message of fromAmqpQueue(consumer, queue, { prefetch: 10 })) {
  reporter.sendToQueue(results, Buffer.from(`doomed ${message.content.toString()}`));
  await reporter.waitForConfirms();
  await new Promise((resolve) => setTimeout(resolve, 15));
  message.ack();
}
