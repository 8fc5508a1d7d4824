/**
 * The page: checks that this browser can make keys here, asks for a name, then runs the chat.
 * The invite link is this page's own URL: its fragment (room, invite secret) is read here and
 * goes nowhere else — the relay URL is derived from the path alone (core/protocol/link.ts).
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { parseInvite } from '@safehouse/core/protocol';
import type { ClientEvent } from '@safehouse/core/client';
import type { CryptoCheck } from '../secure.js';
import { startSession, type Session } from '../session.js';
import { initialState, reduce, unreadTotal, type ChatState, type UiAction } from '../state.js';
import { Chat } from './Chat.js';
import { JoinScreen, type JoinChoice } from './JoinScreen.js';
import { Unsupported } from './Unsupported.js';
import { shown, shownMessage } from './text.js';

/** Events after which the current room's member list is asked for again. */
const REFRESH_MEMBERS = new Set<ClientEvent['type']>(['joined', 'member-joined', 'member-left', 'switched', 'safety-number']);

export function App({ link, check }: { link: string; check: CryptoCheck }) {
  const invite = useMemo(() => parseInvite(link), [link]);
  const [session, setSession] = useState<Session>();
  const [state, setState] = useState<ChatState>();
  const [ended, setEnded] = useState(false);
  const sessionRef = useRef<Session>();
  const joinedRef = useRef(new Set<string>());

  // Once in the chat: the invite secret leaves the address bar (history, sync, a glance over the
  // shoulder; the Invite button still has the link), and closing or reloading the tab asks
  // first, since the keys live in this tab only.
  const over = state?.fatal !== undefined || ended;
  useEffect(() => {
    if (!session || over) return;
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    const ask = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', ask);
    return () => window.removeEventListener('beforeunload', ask);
  }, [session, over]);

  // A background tab counts what arrives as unread (the title shows it).
  useEffect(() => {
    const onVisibility = () => setState((old) => (old ? reduce(old, { type: 'ui-visibility', hidden: document.hidden }, old.current, Date.now()) : old));
    document.addEventListener('visibilitychange', onVisibility);
    return () => document.removeEventListener('visibilitychange', onVisibility);
  }, []);

  const unread = state ? unreadTotal(state) : 0;
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Safehouse` : 'Safehouse';
  }, [unread]);

  if (!check.ok) return <Unsupported check={check} link={link} />;
  if (!invite.ok)
    return (
      <main class="join">
        <h1>Safehouse</h1>
        <p class="error" role="alert">
          This link cannot be used: {invite.message}. Ask for the whole link again, including everything after the #.
        </p>
      </main>
    );

  if (state?.fatal)
    return (
      <main class="join">
        <h1>Safehouse</h1>
        <p class="error" role="alert">
          {shown(state.fatal.message)} ({state.fatal.code}).
        </p>
        {state.notices.slice(-3).map((n) => (
          <p key={n.key}>{shownMessage(n.text)}</p>
        ))}
        <button type="button" class="primary" onClick={() => window.location.reload()}>
          Start again
        </button>
      </main>
    );

  if (ended)
    return (
      <main class="join">
        <h1>Safehouse</h1>
        <p role="status">You left every room and the connection is closed. This visit's keys are gone with it.</p>
        <button type="button" class="primary" onClick={() => window.location.reload()}>
          Start again
        </button>
      </main>
    );

  if (!session || !state) {
    const onJoin = async (choice: JoinChoice) => {
      setState(initialState(choice.name));
      const s = await startSession({
        ...choice,
        link,
        onQuit: () => setEnded(true),
        onEvent: (ev, current) => {
          setState((old) => (old ? reduce(old, ev, current, Date.now()) : old));
          // Rooms we are a member of (a room still admitting us has no member list to ask for).
          if (ev.type === 'joined') joinedRef.current.add(ev.room);
          if (ev.type === 'left') joinedRef.current.delete(ev.room);
          if (REFRESH_MEMBERS.has(ev.type) && 'room' in ev && current !== undefined && ev.room === current && joinedRef.current.has(current)) sessionRef.current?.run('/users');
          // The link we came by admits others to the same room (while its inviter is a member).
          if (ev.type === 'joined' && ev.room === invite.invite.room?.id)
            setState((old) => (old ? reduce(old, { type: 'ui-invite', room: ev.room, link }, current, Date.now()) : old));
        },
      });
      sessionRef.current = s;
      setSession(s);
    };
    return (
      <JoinScreen roomName={invite.invite.room?.name} hasRoom={invite.invite.room !== undefined} certFingerprint={invite.invite.certFingerprint} onJoin={onJoin} />
    );
  }

  const dispatch = (a: UiAction) => {
    setState((old) => (old ? reduce(old, a, old.current, Date.now()) : old));
    if (a.type === 'ui-trusted') session.run('/users');
  };
  return <Chat state={state} session={session} dispatch={dispatch} />;
}
