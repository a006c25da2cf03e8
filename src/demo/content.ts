/**
 * Offline demo feeds, modelled on the planet page this product grew from: Planet
 * Linux Australia, Seth Godin and A List Apart under "thinktime", plus a second
 * category so that grouping shows. Ages are hours before the demo's first run:
 * posts under 24 hours old are mailed on the first fetch, older ones are not.
 */
export interface DemoPost {
  title: string;
  author: string;
  ageHours: number;
  html: string;
}

export interface DemoFeed {
  slug: string;
  title: string;
  siteUrl: string;
  format: 'rss' | 'atom';
  category: string;
  posts: DemoPost[];
}

export const demoCategories = [
  { name: 'thinktime', title: 'Thinktime', description: 'Essays and notes from people who think out loud.' },
  { name: 'releases', title: 'Releases', description: 'What shipped this week in free software.' },
];

export const demoFeeds: DemoFeed[] = [
  {
    slug: 'planet-linux-australia',
    title: 'Planet Linux Australia',
    siteUrl: 'http://planet.linux.org.au/',
    format: 'rss',
    category: 'thinktime',
    posts: [
      {
        title: 'Michael Still: Blueprints implemented in Nova during Juno',
        author: 'Michael Still',
        ageHours: 2,
        html: `<p>As we get closer to releasing the RC1 of Nova for Juno, I've started collecting a list of all the blueprints we implemented in Juno. This was mostly done because it helps me write the release notes, but I am posting it here because I am sure that others will find it handy too.</p>
<ul><li>Reserve 10 sql schema version numbers for back ports of Juno migrations to Icehouse.</li><li>Support sub-classing objects.</li><li>Refactor the nova scheduler into being a library.</li></ul>
<p><img src="/images/juno.png" alt="Juno release"> Tags for this post: openstack juno blueprints implemented</p>`,
      },
      {
        title: 'Francois Marier: Encrypted mailing list on Debian and Ubuntu',
        author: 'Francois Marier',
        ageHours: 9,
        html: `<p>Running an encrypted mailing list is surprisingly tricky. One of the first challenges is that you need to decide what the threat model is. Are you worried about someone compromising the list server? One of the subscribers stealing the list of subscriber email addresses? You can't just "turn on encryption", you have to think about what you're trying to defend against.</p>
<p>I decided to use <a href="/schleuder">schleuder</a>. Here's how I set it up.</p><script>alert('feeds are untrusted: this never reaches a reader')</script>`,
      },
      {
        title: 'Colin Charles: Trip report: LinuxCon North America, CentOS Dojo Paris, WebExpo Prague',
        author: 'Colin Charles',
        ageHours: 20,
        html: '<p>I had quite a good time at LinuxCon North America/CloudOpen North America 2014, alongside my colleague Max Mether &amp; the MariaDB Foundation.</p>',
      },
      {
        title: 'Andrew Pollock: [life] Day 240: A day of perfect scheduling',
        author: 'Andrew Pollock',
        ageHours: 80,
        html: '<p>Today was a day where everything just fell into place.</p>',
      },
    ],
  },
  {
    slug: 'seth-godin',
    title: "Seth Godin's Blog",
    siteUrl: 'https://seths.blog/',
    format: 'rss',
    category: 'thinktime',
    posts: [
      {
        title: 'The sophistication of truth',
        author: 'Seth Godin',
        ageHours: 6,
        html: '<p>A common form of complexity is the sophistication of fear. Long words when short ones will do. Fancy clothes to keep the riffraff out and to give us a costume to hide behind. Most of all, the sneer of, "you wouldn\'t understand."</p><p>Truth, on the other hand, is often simple, and simply delivered.</p>',
      },
      {
        title: 'Wishing vs. doing',
        author: 'Seth Godin',
        ageHours: 30,
        html: "<p>By giving people more ways to speak up and more tools to take action, we keep decreasing the gap between what we wish for and what we can do about it. If you're not willing to do anything about it, are you actually wishing?</p>",
      },
    ],
  },
  {
    slug: 'a-list-apart',
    title: 'A List Apart',
    siteUrl: 'https://alistapart.com/',
    format: 'atom',
    category: 'thinktime',
    posts: [
      {
        title: 'Making Our Events More Inclusive For Those Under 21 (and Also Everyone Else)',
        author: 'Jeffrey Zeldman',
        ageHours: 12,
        html: '<p>When we started An Event Apart, we wanted every web designer and developer to be able to come. Our venues often serve alcohol, and that kept younger people out. Here is what we changed, and why it is better for everyone.</p>',
      },
    ],
  },
  {
    slug: 'free-software-releases',
    title: 'Free Software Releases',
    siteUrl: 'https://releases.example.org/',
    format: 'rss',
    category: 'releases',
    posts: [
      {
        title: 'PostgreSQL 18 adds asynchronous I/O',
        author: 'Release Team',
        ageHours: 4,
        html: '<p>The new release reads data with asynchronous I/O, upgrades keep planner statistics, and virtual generated columns become the default.</p>',
      },
      {
        title: 'Node.js 20 enters maintenance',
        author: 'Release Team',
        ageHours: 15,
        html: '<p>Node.js 20 "Iron" moves to maintenance: security fixes continue until its end of life. Plan your upgrade to the next LTS line.</p>',
      },
    ],
  },
];
