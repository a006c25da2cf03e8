import { tokenKeys } from '../../links/tokens.js';
import { verifiedTags, type AddressConfig } from '../../links/verp.js';

/** The delivery an envelope sender names by its signed VERP tag; undefined for any other address. */
export type DeliveryOfSender = (envelopeSender: string | undefined) => number | undefined;

export function deliveryOfSender(config: Pick<AddressConfig, 'secret' | 'secretPrevious'>): DeliveryOfSender {
  const keys = tokenKeys(config);
  return (sender) => (sender === undefined ? undefined : verifiedTags(keys, sender).find((tag) => tag.purpose === 'bounce')?.id);
}
