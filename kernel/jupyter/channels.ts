// The five sockets. zeromq v6 refuses a second send while one is pending
// (EBUSY), so each socket sends through its own queue.
import * as zmq from 'zeromq';
import { ConnectionInfo, endpoint } from './connection';

class SendQueue {
  private tail: Promise<void> = Promise.resolve();
  constructor(private readonly socket: { send(frames: Buffer[]): Promise<void> }) {}
  send(frames: Buffer[]): Promise<void> {
    this.tail = this.tail.then(() => this.socket.send(frames)).catch((e: Error) => {
      process.stderr.write(`berth kernel: send failed: ${e.message}\n`);
    });
    return this.tail;
  }
}

export class Channels {
  readonly shell = new zmq.Router({ sendHighWaterMark: 0 });
  readonly control = new zmq.Router({ sendHighWaterMark: 0 });
  readonly stdin = new zmq.Router();
  // XPUB so that a client subscribing late gets a welcome message (5.5).
  readonly iopub = new zmq.XPublisher({ sendHighWaterMark: 0 });
  readonly heartbeat = new zmq.Reply();
  readonly queues = {
    shell: new SendQueue(this.shell),
    control: new SendQueue(this.control),
    stdin: new SendQueue(this.stdin),
    iopub: new SendQueue(this.iopub),
  };

  async bind(info: ConnectionInfo): Promise<void> {
    await Promise.all([
      this.shell.bind(endpoint(info, info.shell_port)),
      this.control.bind(endpoint(info, info.control_port)),
      this.stdin.bind(endpoint(info, info.stdin_port)),
      this.iopub.bind(endpoint(info, info.iopub_port)),
      this.heartbeat.bind(endpoint(info, info.hb_port)),
    ]);
  }

  // Echoes heartbeats until closed.
  async runHeartbeat(): Promise<void> {
    try {
      for await (const frames of this.heartbeat) await this.heartbeat.send(frames);
    } catch {
      /* closed */
    }
  }

  close(): void {
    for (const s of [this.shell, this.control, this.stdin, this.iopub, this.heartbeat]) s.close();
  }
}
