import type { Page } from 'playwright-core';

/**
 * Every visible text on the page whose contrast with what is behind it is under
 * `minimum` (WCAG 2 ratio), from the computed styles: the text colour over the
 * background colours of the element and its ancestors, laid over the canvas of the
 * page's colour scheme. Background pictures and gradients are not seen.
 */
export async function checkContrast(page: Page, minimum = 4.5): Promise<string[]> {
  // tsx names the functions it compiles with a __name helper the page does not have.
  await page.evaluate('globalThis.__name ??= (f) => f');
  return page.evaluate((min) => {
    type Rgba = [number, number, number, number];
    const parse = (value: string): Rgba | undefined => {
      const match = /^rgba?\(([\d.]+),?\s*([\d.]+),?\s*([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\)$/.exec(value);
      if (match === null) return undefined;
      const alpha = match[4] === undefined ? 1 : match[4].endsWith('%') ? Number(match[4].slice(0, -1)) / 100 : Number(match[4]);
      return [Number(match[1]), Number(match[2]), Number(match[3]), alpha];
    };
    const over = (top: Rgba, below: Rgba): Rgba => [
      top[0] * top[3] + below[0] * (1 - top[3]),
      top[1] * top[3] + below[1] * (1 - top[3]),
      top[2] * top[3] + below[2] * (1 - top[3]),
      1,
    ];
    const luminance = ([r, g, b]: Rgba) => {
      const channel = (c: number) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const dark = window.matchMedia('(prefers-color-scheme: dark)').matches;
    const canvas: Rgba = dark ? [18, 18, 18, 1] : [255, 255, 255, 1];
    const backgroundOf = (element: Element): Rgba => {
      const chain: Element[] = [];
      for (let e: Element | null = element; e !== null; e = e.parentElement) chain.unshift(e);
      return chain.reduce<Rgba>((below, e) => {
        const colour = parse(getComputedStyle(e).backgroundColor);
        return colour === undefined ? below : over(colour, below);
      }, canvas);
    };
    const poor: string[] = [];
    for (const element of Array.from(document.body.querySelectorAll('*'))) {
      const text = Array.from(element.childNodes)
        .filter((n) => n.nodeType === Node.TEXT_NODE)
        .map((n) => n.textContent ?? '')
        .join('')
        .trim();
      if (text === '') continue;
      const rect = element.getBoundingClientRect();
      const style = getComputedStyle(element);
      // Hidden, clipped to a pixel (visually-hidden) or parked off-screen (the skip link until focused).
      if (rect.width <= 1 || rect.height <= 1 || rect.right < 0 || rect.bottom < 0 || style.visibility === 'hidden') continue;
      const background = backgroundOf(element);
      const ink = parse(style.color);
      if (ink === undefined) {
        poor.push(`${element.tagName.toLowerCase()}: colour ${style.color} not understood`);
        continue;
      }
      const [a, b] = [luminance(over(ink, background)), luminance(background)];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      if (ratio < min)
        poor.push(
          `${element.tagName.toLowerCase()}.${element.className} "${text.slice(0, 40)}": ${ratio.toFixed(2)} (${style.color} on rgb(${background.slice(0, 3).map(Math.round).join(', ')}))`,
        );
    }
    return poor;
  }, minimum);
}
