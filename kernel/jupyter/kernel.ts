// The protocol core: receives, verifies and dispatches requests, wraps each
// in status busy/idle, and orders IOPub output before the reply. Message
// order follows ipykernel's kernelbase.py.
import { randomUUID } from 'crypto';
import * as os from 'os';
import * as path from 'path';
import { Channels } from './channels';
import { ConnectionInfo } from './connection';
import { History } from './history';
import { ExecuteContext, ExecuteOutcome, Interpreter } from './interpreter-api';
import { Channel, ExecuteRequest, Message, MimeBundle, newHeader } from './messages';
import { Signer } from './signing';
import { contentProblem, isObject } from './validate';
import { decode, encode, WireError } from './wire';
import { codePoints, historyReply, kernelInfo, toUtf16Offset } from './replies';

type Content = Record<string, unknown>;

export class Kernel {
  private readonly channels = new Channels();
  private readonly signer: Signer;
  private readonly session = randomUUID();
  private executionCount = 0;
  private readonly shellQueue: Array<Message<unknown>> = [];
  private shellBusy = false;
  private interruptHandler: (() => void) | undefined;
  private readonly history: History;
  private closing = false;

  constructor(private readonly info: ConnectionInfo, private readonly interpreter: Interpreter) {
    this.signer = new Signer(info.key, info.signature_scheme);
    this.history = new History(process.env.BERTH_HISTORY || path.join(os.homedir(), '.local', 'share', 'berth', 'history.jsonl'));
  }

  async start(): Promise<void> {
    await this.channels.bind(this.info);
    void this.channels.runHeartbeat();
    void this.receive('shell', this.channels.shell);
    void this.receive('control', this.channels.control);
    void this.welcomeSubscribers();
    this.publish('status', { execution_state: 'starting' }, undefined);
  }

  // ---- sending -------------------------------------------------------------

  private send(channel: Channel, msgType: string, content: Content, parent: Message<unknown> | undefined, identities: Buffer[] = [], metadata: Content = {}): Promise<void> {
    const frames = encode(
      { identities, header: newHeader(msgType, this.session), parent_header: parent?.header ?? {}, metadata, content },
      this.signer,
    );
    return this.channels.queues[channel].send(frames);
  }

  private publish(msgType: string, content: Content, parent: Message<unknown> | undefined): Promise<void> {
    return this.send('iopub', msgType, content, parent, [Buffer.from(`kernel.${this.session}.${msgType}`)]);
  }

  private readonly replied = new WeakSet<Message<unknown>>();

  private reply(channel: 'shell' | 'control', req: Message<unknown>, msgType: string, content: Content): Promise<void> {
    this.replied.add(req);
    return this.send(channel, msgType, content, req, req.identities, { started: new Date().toISOString() });
  }

  // A late subscriber gets iopub_welcome, so it knows it will see busy/idle.
  private async welcomeSubscribers(): Promise<void> {
    try {
      for await (const [frame] of this.channels.iopub) {
        if (frame[0] === 1) void this.send('iopub', 'iopub_welcome', { subscription: frame.subarray(1).toString() }, undefined, [Buffer.from('')]);
      }
    } catch {
      /* closed */
    }
  }

  // ---- receiving -----------------------------------------------------------

  private async receive(channel: 'shell' | 'control', socket: AsyncIterable<Buffer[]>): Promise<void> {
    try {
      for await (const frames of socket) {
        let msg: Message<unknown>;
        try {
          msg = decode(frames, this.signer);
        } catch (e) {
          // Never execute what we cannot trust; say so on stderr for the log.
          process.stderr.write(`berth kernel: dropped a message on ${channel}: ${(e as WireError).message}\n`);
          continue;
        }
        if (channel === 'control') void this.handle('control', msg);
        else {
          this.shellQueue.push(msg);
          void this.drainShell();
        }
      }
    } catch (e) {
      if (!this.closing) process.stderr.write(`berth kernel: ${channel} receive loop ended: ${(e as Error).message}\n`);
    }
  }

  private async drainShell(): Promise<void> {
    if (this.shellBusy) return;
    this.shellBusy = true;
    try {
      while (this.shellQueue.length) await this.handle('shell', this.shellQueue.shift()!);
    } finally {
      this.shellBusy = false;
    }
  }

  // Every request gets busy, a reply and idle, whatever it holds: a malformed
  // one an error reply, one that fails an error reply too. Nothing a client
  // sends may end the kernel or leave the client waiting.
  private async handle(channel: 'shell' | 'control', raw: Message<unknown>): Promise<void> {
    const type = raw.header.msg_type;
    try {
      await this.publish('status', { execution_state: 'busy' }, raw);
      const problem = contentProblem(raw);
      if (problem) await this.refuse(channel, raw, problem);
      else if ((await this.dispatch(channel, raw as Message)) === 'shutdown') return;
    } catch (e) {
      process.stderr.write(`berth kernel: error handling ${type}: ${(e as Error).stack}\n`);
      if (type.endsWith('_request') && !this.replied.has(raw)) {
        await this.refuse(channel, raw, `the kernel could not handle this ${type}: ${(e as Error).message}`, 'InternalError').catch(() => undefined);
      }
    }
    try {
      await this.publish('status', { execution_state: 'idle' }, raw);
    } catch (e) {
      process.stderr.write(`berth kernel: cannot answer ${type}: ${(e as Error).message}\n`);
    }
  }

  private async refuse(channel: 'shell' | 'control', msg: Message<unknown>, problem: string, ename = 'InvalidRequest'): Promise<void> {
    const type = msg.header.msg_type;
    if (!type.endsWith('_request')) {
      process.stderr.write(`berth kernel: dropped a ${type}: ${problem}\n`);
      return;
    }
    const content: Content = { status: 'error', ename, evalue: problem, traceback: [problem] };
    if (type === 'execute_request') content.execution_count = this.executionCount;
    await this.reply(channel, msg, type.replace(/_request$/, '_reply'), content);
  }

  private async dispatch(channel: 'shell' | 'control', msg: Message): Promise<'shutdown' | void> {
    const type = msg.header.msg_type;
    switch (type) {
      case 'kernel_info_request':
        await this.reply(channel, msg, 'kernel_info_reply', kernelInfo(this.interpreter));
        break;
      case 'execute_request':
        await this.execute(channel, msg as Message<ExecuteRequest & Content>);
        break;
      case 'is_complete_request':
        await this.reply(channel, msg, 'is_complete_reply', this.interpreter.isComplete(String(msg.content.code ?? '')));
        break;
      case 'complete_request': {
        const code = String(msg.content.code ?? '');
        const pos = toUtf16Offset(code, Number(msg.content.cursor_pos ?? codePoints(code)));
        const r = this.interpreter.complete(code, pos);
        await this.reply(channel, msg, 'complete_reply', {
          status: 'ok',
          matches: r.matches,
          cursor_start: codePoints(code.slice(0, r.cursor_start)),
          cursor_end: codePoints(code.slice(0, r.cursor_end)),
          metadata: {},
        });
        break;
      }
      case 'inspect_request': {
        const code = String(msg.content.code ?? '');
        const data = this.interpreter.inspect(code, toUtf16Offset(code, Number(msg.content.cursor_pos ?? 0)));
        await this.reply(channel, msg, 'inspect_reply', { status: 'ok', found: data !== undefined, data: data ?? {}, metadata: {} });
        break;
      }
      case 'history_request':
        await this.reply(channel, msg, 'history_reply', { status: 'ok', history: historyReply(this.history, msg.content) });
        break;
      case 'comm_info_request':
        await this.reply(channel, msg, 'comm_info_reply', { status: 'ok', comms: {} });
        break;
      case 'comm_open':
        // No comm targets: close it as ipykernel does for unknown targets.
        await this.publish('comm_close', { comm_id: msg.content.comm_id, data: {} }, msg);
        break;
      case 'comm_msg':
      case 'comm_close':
        break;
      case 'interrupt_request':
        this.interruptHandler?.();
        await this.reply(channel, msg, 'interrupt_reply', { status: 'ok' });
        break;
      case 'usage_request':
        await this.reply(channel, msg, 'usage_reply', { kernel_cpu: process.cpuUsage().user / 1e6, kernel_memory: process.memoryUsage().rss, ...(this.interpreter.usage?.() ?? {}) });
        break;
      case 'shutdown_request':
        await this.reply(channel, msg, 'shutdown_reply', { status: 'ok', restart: Boolean(msg.content.restart) });
        await this.publish('status', { execution_state: 'idle' }, msg);
        await this.shutdown();
        return 'shutdown';
      default:
        if (type.endsWith('_request')) {
          await this.reply(channel, msg, type.replace(/_request$/, '_reply'), { status: 'error', ename: 'NotImplemented', evalue: `${type} is not supported`, traceback: [] });
        }
    }
  }

  private async execute(channel: 'shell' | 'control', msg: Message<ExecuteRequest & Content>): Promise<void> {
    const c = msg.content;
    const silent = Boolean(c.silent);
    const store = c.store_history !== false && !silent;
    if (store) this.executionCount++;
    const count = this.executionCount;
    if (!silent) await this.publish('execute_input', { code: c.code, execution_count: count }, msg);
    if (store) this.history.add(count, c.code);
    const ctx: ExecuteContext = {
      stream: (name, text) => {
        if (!silent && text) void this.publish('stream', { name, text }, msg);
      },
      display: (data: MimeBundle, opts = {}) => {
        if (!silent) void this.publish('display_data', { data, metadata: opts.metadata ?? {}, transient: opts.displayId ? { display_id: opts.displayId } : {} }, msg);
      },
      updateDisplay: (displayId, data) => {
        if (!silent) void this.publish('update_display_data', { data, metadata: {}, transient: { display_id: displayId } }, msg);
      },
      input: (prompt, password) => this.input(msg, prompt, password),
      allowStdin: Boolean(c.allow_stdin),
      onInterrupt: (h) => {
        this.interruptHandler = h;
        return () => {
          if (this.interruptHandler === h) this.interruptHandler = undefined;
        };
      },
    };
    let outcome: ExecuteOutcome;
    try {
      outcome = await this.interpreter.execute(String(c.code ?? ''), ctx);
    } catch (e) {
      outcome = { status: 'error', ename: 'InternalError', evalue: (e as Error).message, traceback: [(e as Error).message] };
    }
    if (outcome.status === 'ok') {
      if (outcome.result && !silent) {
        await this.publish('execute_result', { execution_count: count, data: outcome.result, metadata: {} }, msg);
        if (store) this.history.setOutput(count, String(outcome.result['text/plain'] ?? ''));
      }
      await this.reply(channel, msg, 'execute_reply', { status: 'ok', execution_count: count, user_expressions: {}, payload: outcome.payload ?? [] });
      return;
    }
    const err = { ename: outcome.ename, evalue: outcome.evalue, traceback: outcome.traceback };
    if (!silent) await this.publish('error', err, msg);
    await this.reply(channel, msg, 'execute_reply', { status: 'error', execution_count: count, ...err });
    if (c.stop_on_error !== false) await this.abortQueued();
  }

  // After an error, the cells already queued are answered "aborted", not run.
  private async abortQueued(): Promise<void> {
    const queued = this.shellQueue.splice(0);
    for (const m of queued) {
      if (m.header.msg_type !== 'execute_request') {
        this.shellQueue.push(m);
        continue;
      }
      await this.publish('status', { execution_state: 'busy' }, m);
      await this.reply('shell', m, 'execute_reply', { status: 'aborted', execution_count: this.executionCount });
      await this.publish('status', { execution_state: 'idle' }, m);
    }
  }

  private async input(parent: Message, prompt: string, password: boolean): Promise<string> {
    if (!parent.content.allow_stdin) throw new Error('this front end does not allow input (stdin); run the cell in a notebook or console that does');
    const header = newHeader('input_request', this.session);
    await this.channels.queues.stdin.send(encode({ identities: parent.identities, header, parent_header: parent.header, metadata: {}, content: { prompt, password } }, this.signer));
    // receive() rather than for-await: leaving a for-await loop would end
    // the socket's iterator for every later input request.
    for (;;) {
      const frames = await this.channels.stdin.receive();
      try {
        const m = decode(frames, this.signer);
        // jupyter_client sends input_reply without a parent header, so any
        // input_reply answers the one request outstanding (as in ipykernel).
        if (m.header.msg_type === 'input_reply') return String(isObject(m.content) ? m.content.value ?? '' : '');
      } catch (e) {
        process.stderr.write(`berth kernel: dropped a message on stdin: ${(e as Error).message}\n`);
      }
    }
  }

  async shutdown(): Promise<void> {
    this.closing = true;
    try {
      await this.interpreter.shutdown?.();
    } finally {
      // Let the reply and idle leave before the sockets close.
      await new Promise((r) => setTimeout(r, 50));
      this.channels.close();
      process.exit(0);
    }
  }
}
