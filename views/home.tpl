% rebase('base.tpl', title=title, links=links)
% if owner:
<div class="h-card profile">
  <p class="muted">Profile of</p>
  <h1><a class="u-url u-uid p-name" href="{{owner.me}}">{{owner.name or owner.me}}</a></h1>
</div>
% end
% if user:
% heading = "h2" if owner else "h1"  # a page's first heading is its h1, for screen reader users
<{{heading}}>Hello, {{user.name or user.username}}</{{heading}}>
<p>You are signed in as <a href="{{user.me}}">{{user.me}}</a>.</p>
<h2 id="next-steps">What to do next</h2>
<ol class="guide">
% if user.me != base_url:
  <li id="guide-links"><strong>Put these links on your site.</strong> To sign in to IndieWeb apps as
  <strong>{{user.me}}</strong>, that page must name this server. Put these lines in its <code>&lt;head&gt;</code>:
  <pre class="snippet"><code>{{"\n".join(f'<link rel="{rel}" href="{href}">' for rel, href in links)}}</code></pre>
  % if check:
  % state, detail = check
  % if state == "ok":
  <p role="status" id="links-check">Yes: {{user.me}} names this server.</p>
  % elif state == "unreachable":
  <p role="alert" class="warning" id="links-check">Your site could not be read: {{detail}}</p>
  % elif state == "other":
  <p role="alert" class="warning" id="links-check">Your site names another server: {{detail}}</p>
  % else:
  <p role="alert" class="warning" id="links-check">Not yet: {{user.me}} does not have these links.</p>
  % end
  % end
  <form method="get" action="/#guide-links" class="inline"><input type="hidden" name="check" value="links">
  <button type="submit" class="secondary">Check my site for the links</button></form></li>
% end
% if missing:
  <li id="guide-factor"><strong>Add a second factor,</strong> so that a stolen password is not enough:
  % for auth in missing:
  <a href="{{auth.settings_url}}">{{auth.label}}</a>{{"," if auth is not missing[-1] else "."}}
  % end
  </li>
% end
  <li id="guide-account"><strong>Say who you are</strong> on <a href="/account">your account page</a>: the
  name, photo and website apps show, and the email address sign-in codes are sent to.</li>
  <li id="guide-tester"><strong>Try signing in to an app</strong> with the <a href="/docs#tester">OAuth tester</a>,
  which plays the app's part in this very browser.</li>
  <li id="guide-token"><strong>Issue a testing token</strong> on the <a href="/tokens/new">new token page</a>, to
  try a Micropub client or your own scripts before an app asks for one.</li>
  <li><a href="/selftest">Check that this server's host passes tokens on</a></li>
</ol>
% if activity:
<h2 id="activity-heading">Recent activity</h2>
% totals = activity["totals"]
<p id="activity-summary">In the last {{len(activity["series"])}} days:
% words = lambda kind, one, many, n: f"{n} {one if n == 1 else many}"
{{!", ".join(f'<span class="key {kind}"></span>' + words(kind, one, many, totals[kind]) for kind, one, many in activity["kinds"])}}.
<a href="/log">The whole log</a></p>
% width, height, gap = 300, 60, 1
% step = width / len(activity["series"])
% bar = (step - gap) / len(activity["kinds"])
<svg class="activity" viewBox="0 0 {{width}} {{height + 14}}" width="100%" role="img" aria-labelledby="activity-heading activity-summary">
% for n, (day, counts) in enumerate(activity["series"]):
  % for k, (kind, one, many) in enumerate(activity["kinds"]):
  % tall = round(height * counts[kind] / activity["highest"], 1)
  % if counts[kind]:
  <rect class="{{kind}}" x="{{round(n * step + k * bar, 1)}}" y="{{height - tall}}" width="{{round(bar, 1)}}" height="{{tall}}"><title>{{day.isoformat()}}: {{words(kind, one, many, counts[kind])}}</title></rect>
  % end
  % end
% end
  <line x1="0" y1="{{height + .5}}" x2="{{width}}" y2="{{height + .5}}" class="axis"/>
  <text x="0" y="{{height + 12}}" class="axis">{{activity["series"][0][0].strftime("%-d %b")}}</text>
  <text x="{{width}}" y="{{height + 12}}" text-anchor="end" class="axis">{{activity["series"][-1][0].strftime("%-d %b")}}</text>
</svg>
% end
% if manage:
<h2>Your sign-in methods</h2>
<ul>
% for auth in manage:
  <li><a href="{{auth.settings_url}}">{{auth.label}}</a></li>
% end
</ul>
% end
% elif not owner:
<h1>IndieAuth</h1>
<p>This server lets its users sign in to IndieWeb sites with their own domain.</p>
<p><a class="button" href="/login">Sign in</a></p>
% else:
<p><a href="/login">Sign in</a></p>
% end
