/**
 * What members are told when they refuse a commit (docs/protocol.md "Room policy"): the room's
 * policy forbids it (`E_FORBIDDEN`: only admins remove others or change the policy; nobody adds a
 * third member to a direct room), or it
 * changes a member's name or signature key after admission (`E_CREDENTIAL_CHANGED`: a leaf keeps
 * the credential it was admitted with, e2ee/credentialChange.ts). Either way it names who tried,
 * by the name the members know; never a message text, key or secret.
 */
import type { Member } from '../e2ee/api.js';
import type { ClientEvent } from './events.js';

export function refusedCommitEvent(
  room: { id: string; roomName: string; direct?: { name: string } | undefined },
  by: Member | undefined,
  credentialOf: Member | undefined,
): Extract<ClientEvent, { type: 'error' }> {
  const who = by?.name ?? 'a member';
  if (credentialOf !== undefined) {
    const whose = by !== undefined && by.leaf === credentialOf.leaf ? 'its own' : `${credentialOf.name}'s`;
    return {
      type: 'error',
      code: 'E_CREDENTIAL_CHANGED',
      message: `${who} tried to change ${whose} name or key in ${room.roomName} after admission; the change was refused (a member keeps the name and key it was admitted with)`,
      room: room.id,
    };
  }
  return {
    type: 'error',
    code: 'E_FORBIDDEN',
    message: room.direct
      ? `${who} tried to change your direct conversation with ${room.direct.name} (to add someone, or to change who its two members are); refused: only the two of you can ever read it`
      : `${who} tried to change ${room.roomName} without the right to (only its admins may remove others); the change was refused`,
    room: room.id,
  };
}
