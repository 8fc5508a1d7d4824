/**
 * The admin console's engine: an in-process member of the server's default room, running the
 * same client as everyone (createClient over the server's privileged connection), with what only
 * the server's operator may do — /kick, /ban, room policies, a welcome message.
 *
 * What is enforced, and by whom (docs/deploy.md, "Room policies"):
 * - /kick: an MLS commit removes the member from every room the admin is in (with an UpdatePath:
 *   it cannot read what follows); then the relay closes the connection that sent its join request
 *   (control.ts joinerHandle — a member who reconnected since keeps its new connection, but it is
 *   out of the MLS groups all the same).
 * - /ban: a kick, then the admin's admission policy refuses that key and any look-alike of that
 *   name (E_BANNED) until the server stops; if another member admits it anyway, the admin removes
 *   it again at once.
 * - --disable-all: the relay refuses `pub kind:app` to the default room from every connection but
 *   the admin's. Direct-message invitations travel as `kind:dm`, so members can still start them.
 * - --only-admin: each member gets a two-member room with the admin (a direct message) and is then
 *   removed from the default room, which holds only the admin (and joiners for a moment). The
 *   relay refuses publishing, joining and admitting in any room the admin is not in, so members
 *   cannot reach each other. A joiner briefly sees the members of the default room at that moment.
 * - The admin's name: the default room refuses look-alikes of it (the client's name rules); with
 *   --only-admin, where members leave the default room, the admission policy also refuses
 *   look-alikes of every current member's name.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import {
  createClient,
  ViewStore,
  nameSkeleton,
  normalizeName,
  type ClientEvent,
  type JoinCandidate,
  type RefusalCode,
  type SafehouseClient,
} from '@safehouse/core/client';
import { createE2ee, exportIdentity, formatFingerprint, type Identity } from '@safehouse/core/e2ee';
import { toBase64Url, UsageError, type ErrorCode, type TimeServerSpec } from '@safehouse/core/protocol';
import type { RunningServer } from '@safehouse/server';
import { LinePrinter } from '../line-view.js';
import { adminHelpText, ADMIN_HELP, parseAdminLine, type AdminCommand } from './commands.js';
import { privilegedTransport } from './transport.js';

export type AdminEvent = Record<string, unknown> & { type: string };

export type AdminOptions = {
  /** Display name; upper case by convention (default ADMIN). */
  name: string;
  /** A saved identity (--admin-key); default: a new one, exportable with /key export. */
  identity?: Identity;
  /** Sent, encrypted, as a direct message to each member who joins. */
  welcome?: string;
  disableAll: boolean;
  onlyAdmin: boolean;
  /** The base link members use, with the certificate pin if any (`#c=`). */
  link: string;
  /** The server's own Roughtime server (serve --roughtime-port): written into the admin's room links (`t`), so members — browsers through the relay — prove time with it. */
  timeServers?: TimeServerSpec[];
  /** Where console output goes: the event (for --json) and its line of text. */
  out: (event: AdminEvent, text: string) => void;
  /** The passphrase for /key export (asked on the terminal, or from a file). */
  passphrase: () => Promise<string>;
};

const GREETING = 'You are connected. Messages you send here reach the admin only.';
const KICK_SETTLE_MS = 5_000;

type Rostered = { fingerprint: string; rooms: Set<string> };

export class Admin {
  readonly #server: RunningServer;
  readonly #o: AdminOptions;
  readonly #identity: Identity;
  readonly #client: SafehouseClient;
  readonly #roster = new Map<string, Rostered>();
  readonly #bannedNames = new Set<string>();
  readonly #bannedKeys = new Set<string>();
  /** Raw fingerprint (base64url) → the relay's handle for the connection that asked to join. */
  readonly #handles = new Map<string, number>();
  /** Name → raw fingerprint (base64url), as seen in join requests. */
  readonly #keys = new Map<string, string>();
  /** --only-admin: members to remove from the default room once they are in their own room. */
  readonly #moving = new Set<string>();
  #room = '';
  #invite = '';
  /** What the view printed for the event being handled. */
  #printed: string[] = [];

  private constructor(server: RunningServer, o: AdminOptions, identity: Identity) {
    this.#server = server;
    this.#o = o;
    this.#identity = identity;
    this.#client = createClient({
      transport: privilegedTransport(server.control),
      name: o.name,
      link: o.link,
      identity,
      roomName: 'lobby',
      admit: (c) => this.#admit(c),
      ...(o.timeServers?.length ? { linkTimeServers: o.timeServers } : {}),
    });
  }

  /** Starts the admin: creates the default room and sets the relay's room policy. */
  static async start(server: RunningServer, o: AdminOptions): Promise<Admin> {
    const name = normalizeName(o.name);
    if (!name.ok) throw new UsageError('E_NAME_INVALID', `--admin-name: ${name.message}`);
    const identity = o.identity ?? (await createE2ee().createIdentity({ exportable: true }));
    const admin = new Admin(server, { ...o, name: name.name }, identity);
    const invite = new Promise<void>((resolve) => {
      const off = admin.#client.on((ev) => {
        if (ev.type !== 'invite') return;
        admin.#room = ev.room;
        admin.#invite = ev.link;
        off();
        resolve();
      });
    });
    // The console's text is the shared view, as line mode prints it (line-view.ts): the view
    // takes each event first, then the console says what it added.
    const view = new ViewStore(admin.#client);
    const printer = new LinePrinter((text) => admin.#printed.push(text));
    view.subscribe((v, stamped) => printer.update(v, stamped));
    admin.#client.on((ev) => admin.#onEvent(ev));
    await admin.#client.start();
    await invite;
    server.control.setPolicy({
      ...(o.disableAll || o.onlyAdmin ? { announceRoom: admin.#room } : {}),
      confine: o.onlyAdmin,
    });
    return admin;
  }

  /** The default room's invite link (the one `serve` prints). */
  get invite(): string {
    return this.#invite;
  }

  async fingerprint(): Promise<string> {
    return formatFingerprint(this.#identity.fingerprint);
  }

  /** Runs one console line; resolves to 'quit' when the server should stop. */
  async command(line: string): Promise<'quit' | undefined> {
    const parsed = parseAdminLine(line);
    if (!parsed.ok) return void this.#error(parsed.code, parsed.message);
    return this.#run(parsed.command);
  }

  async close(): Promise<void> {
    await this.#client.quit({ timeoutMs: 1_000 });
  }

  // ---- commands ----------------------------------------------------------------------------

  async #run(cmd: AdminCommand): Promise<'quit' | undefined> {
    switch (cmd.kind) {
      case 'none':
        return;
      case 'users':
        return void this.#users();
      case 'kick':
      case 'ban':
        return void (await this.#kick(cmd.name, cmd.kind === 'ban'));
      case 'key': {
        const fingerprint = await this.fingerprint();
        return void this.#o.out(
          { type: 'key', name: this.#client.name, fingerprint },
          `-- admin ${this.#client.name}: fingerprint ${fingerprint}`,
        );
      }
      case 'key-export':
        return void (await this.#exportKey(cmd.file));
      case 'help':
        return void this.#o.out({ type: 'help', commands: ADMIN_HELP, text: adminHelpText() }, adminHelpText());
      case 'quit':
        return 'quit';
      case 'dm':
        return void (await this.#client.command(`/msg ${cmd.name} ${cmd.text}`));
      case 'all':
        if (this.#o.onlyAdmin) {
          for (const name of this.#roster.keys()) await this.#client.command(`/msg ${name} ${cmd.text}`);
          return;
        }
        return void (await this.#client.command(cmd.text.startsWith('/') ? `/${cmd.text}` : cmd.text));
      default: {
        const never: never = cmd;
        return never;
      }
    }
  }

  #users(): void {
    const users = [...this.#roster].map(([name, r]) => ({ name, fingerprint: r.fingerprint, rooms: r.rooms.size }));
    const lines = [
      '-- members:',
      ...users.map((u) => `   ${u.name}  ${u.fingerprint}  (${u.rooms} room${u.rooms === 1 ? '' : 's'} with you)`),
    ];
    if (users.length === 0) lines.push('   nobody yet');
    this.#o.out({ type: 'admin-users', users }, lines.join('\n'));
  }

  async #kick(raw: string, ban: boolean): Promise<void> {
    const n = normalizeName(raw);
    const name = n.ok ? n.name : raw;
    // A ban also changes each room's invite secret in the same commit: the old link admits nobody.
    const picked = this.#client.remove((m) => m.name === name, { ban });
    const keys = new Set(picked.map((p) => toBase64Url(p.fingerprint)));
    const known = this.#keys.get(name);
    if (known) keys.add(known);
    if (ban) {
      this.#bannedNames.add(nameSkeleton(name));
      for (const k of keys) this.#bannedKeys.add(k);
    } else if (picked.length === 0) {
      return this.#error('E_UNKNOWN_MEMBER', `no member called "${name}" in your rooms; /users lists them`);
    }
    this.#moving.delete(name);
    // Reported only once each removal landed: accepted by the relay and applied here.
    const landed = await Promise.all(
      picked.map((p) => Promise.race([p.landed, new Promise<boolean>((r) => setTimeout(() => r(false), KICK_SETTLE_MS * 4))])),
    );
    const rooms = new Set(picked.filter((_, i) => landed[i]).map((p) => p.room)).size;
    const failed = new Set(picked.filter((_, i) => !landed[i]).map((p) => p.room)).size;
    if (failed > 0)
      this.#error('E_STALE_EPOCH', `the removal of ${name} did not land in ${failed} room${failed === 1 ? '' : 's'} (the relay did not take it in time); try again`);
    if (picked.length > 0 && rooms === 0) return;
    this.#o.out(
      { type: ban ? 'banned' : 'kicked', name, rooms },
      `-- ${ban ? 'banned' : 'kicked'} ${name} (removed from ${rooms} room${rooms === 1 ? '' : 's'})`,
    );
    // Close its connection once the removal is through, so that it learns it was removed first.
    const deadline = Date.now() + KICK_SETTLE_MS;
    while (this.#roster.has(name) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    let closed = 0;
    for (const k of keys) {
      const h = this.#handles.get(k);
      if (h !== undefined && this.#server.control.disconnect(h)) closed++;
      this.#handles.delete(k);
    }
    this.#o.out(
      { type: 'disconnected', name, connections: closed },
      `-- closed ${closed} connection${closed === 1 ? '' : 's'} of ${name}`,
    );
  }

  async #exportKey(file: string): Promise<void> {
    let passphrase: string;
    try {
      passphrase = await this.#o.passphrase();
    } catch (e) {
      return this.#error('E_USAGE', e instanceof Error ? e.message : 'no passphrase');
    }
    if (passphrase === '') return this.#error('E_USAGE', 'a passphrase cannot be empty');
    const bytes = await exportIdentity(this.#identity, passphrase);
    try {
      const fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      return this.#error(
        'E_USAGE',
        `cannot write ${file}: ${code === 'EEXIST' ? 'it exists (nothing is overwritten)' : typeof code === 'string' ? code : 'error'}`,
      );
    }
    this.#o.out(
      { type: 'key-exported', file },
      `-- the admin identity is saved in ${file} (start with --admin-key ${file})`,
    );
  }

  #error(code: ErrorCode, message: string): void {
    this.#o.out({ type: 'error', code, message }, `!! ${message} (${code})`);
  }

  // ---- admission and membership ------------------------------------------------------------

  #admit(c: JoinCandidate): RefusalCode | undefined {
    const key = toBase64Url(c.fingerprint);
    if (this.#bannedKeys.has(key) || this.#bannedNames.has(nameSkeleton(c.name))) return 'E_BANNED';
    if (this.#o.onlyAdmin && c.room === this.#room) {
      const skel = nameSkeleton(c.name);
      const clash = [this.#client.name, ...this.#roster.keys()].some(
        (n) => nameSkeleton(n) === skel && this.#keys.get(n) !== key,
      );
      if (clash) return 'E_NAME_TAKEN';
    }
    const handle = this.#server.control.joinerHandle(c.room, c.joinId);
    if (handle !== undefined) this.#handles.set(key, handle);
    this.#keys.set(c.name, key);
    return undefined;
  }

  #onEvent(ev: ClientEvent): void {
    const text = this.#printed.splice(0).join('\n');
    // Snapshots are for views; the console says what happened.
    if (ev.type === 'connection' || ev.type === 'room-state' || ev.type === 'current') return;
    // The default room's first link is printed by serve; a later one is a ban's new link.
    if (ev.type === 'invite') {
      if (ev.room !== this.#room || ev.link === this.#invite) return;
      this.#invite = ev.link;
      return this.#o.out(
        { type: 'invite-changed', link: ev.link },
        `-- the invite link changed (the old one admits nobody now); share this one:\n   ${ev.link}`,
      );
    }
    if (ev.type === 'member-joined') this.#joined(ev.room, ev.name, ev.fingerprint);
    else if (ev.type === 'member-left') {
      const r = this.#roster.get(ev.name);
      r?.rooms.delete(ev.room);
      if (r && r.rooms.size === 0) this.#roster.delete(ev.name);
    } else if (ev.type === 'left') {
      for (const [name, r] of this.#roster) {
        r.rooms.delete(ev.room);
        if (r.rooms.size === 0) this.#roster.delete(name);
      }
    }
    this.#o.out(ev, text);
  }

  #joined(room: string, name: string, fingerprint: string): void {
    const r = this.#roster.get(name) ?? { fingerprint, rooms: new Set<string>() };
    r.rooms.add(room);
    this.#roster.set(name, r);
    const key = this.#keys.get(name);
    if (this.#bannedNames.has(nameSkeleton(name)) || (key !== undefined && this.#bannedKeys.has(key))) {
      // Admitted by another member despite the ban: out again (the link stays: nothing leaked).
      this.#client.remove((m) => m.name === name, { keepLink: true });
      return;
    }
    if (room === this.#room) {
      if (this.#o.onlyAdmin) {
        this.#moving.add(name);
        void this.#client.command(`/msg ${name} ${this.#o.welcome ?? GREETING}`);
      } else if (this.#o.welcome !== undefined) {
        void this.#client.command(`/msg ${name} ${this.#o.welcome}`);
      }
      return;
    }
    if (this.#moving.delete(name)) this.#client.remove((m, where) => where === this.#room && m.name === name, { keepLink: true });
  }
}
