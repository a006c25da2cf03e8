import { tokenKeys } from '../../links/tokens.js';
import { verifiedTag, verifiedTags, type AddressConfig } from '../../links/verp.js';

/** The delivery an envelope sender names by its signed VERP tag; undefined for any other address. */
export type DeliveryOfSender = (envelopeSender: string | undefined) => number | undefined;

export function deliveryOfSender(config: Pick<AddressConfig, 'secret' | 'secretPrevious'>): DeliveryOfSender {
  const keys = tokenKeys(config);
  return (sender) => (sender === undefined ? undefined : verifiedTags(keys, sender).find((tag) => tag.purpose === 'bounce')?.id);
}

/** The delivery a bare tag (deliveryTag in ../verp.ts) names when it is genuine; undefined for anything else. */
export type DeliveryOfTag = (tag: string | undefined) => number | undefined;

export function deliveryOfTag(config: Pick<AddressConfig, 'secret' | 'secretPrevious'>): DeliveryOfTag {
  const keys = tokenKeys(config);
  return (tag) => {
    const token = tag === undefined ? undefined : verifiedTag(keys, tag);
    return token?.purpose === 'bounce' ? token.id : undefined;
  };
}
