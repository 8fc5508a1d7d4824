/**
 * The page: checks that this browser can make keys here, asks for a name, then runs the chat.
 * The invite link is this page's own URL: its fragment (room, invite secret) is read here and
 * goes nowhere else — the relay URL is derived from the path alone (core/protocol/link.ts).
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { itemKey, type NoticeItem } from '@safehouse/core/client';
import { parseInvite } from '@safehouse/core/protocol';
import type { CryptoCheck } from '../secure.js';
import { startSession, type Session } from '../session.js';
import { unreadTotal, type PageState } from '../state.js';
import { Chat } from './Chat.js';
import { JoinScreen, type JoinChoice } from './JoinScreen.js';
import { Unsupported } from './Unsupported.js';
import { shown, shownMessage } from './text.js';

export function App({ link, check }: { link: string; check: CryptoCheck }) {
  const invite = useMemo(() => parseInvite(link), [link]);
  const [session, setSession] = useState<Session>();
  const [page, setPage] = useState<PageState>();

  // Once in the chat: the invite secret leaves the address bar (history, sync, a glance over the
  // shoulder; the Invite button still has the link), and closing or reloading the tab asks
  // first, since the keys live in this tab only.
  const over = page?.view.fatal !== undefined || page?.ended === true;
  useEffect(() => {
    if (!session || over) return;
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    const ask = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', ask);
    return () => window.removeEventListener('beforeunload', ask);
  }, [session, over]);

  // A background tab counts what arrives as unread (the title shows it).
  useEffect(() => {
    if (!session) return;
    const onVisibility = () => session.dispatch({ type: 'visibility', hidden: document.hidden });
    onVisibility();
    document.addEventListener('visibilitychange', onVisibility);
    return () => document.removeEventListener('visibilitychange', onVisibility);
  }, [session]);

  const unread = page ? unreadTotal(page) : 0;
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

  const fatal = page?.view.fatal;
  if (page && fatal) {
    // The notices before the end say why (the room left, the refusal); the last one is the end itself.
    const why = page.view.lobby.filter((i): i is NoticeItem => i.kind === 'notice' && i.seq !== page.view.at.fatal).slice(-3);
    return (
      <main class="join">
        <h1>Safehouse</h1>
        <p class="error" role="alert">
          {shown(fatal.message)} ({fatal.code}).
        </p>
        {why.map((n) => (
          <p key={itemKey(n)}>{shownMessage(n.text)}</p>
        ))}
        <button type="button" class="primary" onClick={() => window.location.reload()}>
          Start again
        </button>
      </main>
    );
  }

  if (page?.ended)
    return (
      <main class="join">
        <h1>Safehouse</h1>
        <p role="status">You left every room and the connection is closed. This visit's keys are gone with it.</p>
        <button type="button" class="primary" onClick={() => window.location.reload()}>
          Start again
        </button>
      </main>
    );

  if (!session || !page) {
    const onJoin = async (choice: JoinChoice) => {
      const s = await startSession({ ...choice, link });
      s.subscribe(setPage);
      setPage(s.page);
      setSession(s);
    };
    return (
      <JoinScreen roomName={invite.invite.room?.name} hasRoom={invite.invite.room !== undefined} certFingerprint={invite.invite.certFingerprint} onJoin={onJoin} />
    );
  }

  // The link this page was opened with admits others to the room it names (while its inviter is a member).
  const cameBy = invite.invite.room === undefined ? undefined : { room: invite.invite.room.id, link };
  return <Chat page={page} session={session} cameBy={cameBy} />;
}
