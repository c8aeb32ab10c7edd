% rebase('base.tpl', title=title, scripts=['/static/selftest.js'])
<h1>Server self-test</h1>
<h2>Does the Authorization header reach the server?</h2>
<div id="authorization-check" data-echo="{{echo}}" data-authorization="{{authorization}}">
<p class="by-hand">Your browser asks this server, through the web server in front of it, as apps do. Without
JavaScript, ask it yourself with this command (the header and address work for this check only):</p>
<pre class="snippet by-hand"><code>curl -H "Authorization: {{authorization}}" "{{echo}}"</code></pre>
<p class="by-hand">It answers <code>passed</code> or <code>renamed</code> if the header arrives, <code>missing</code> if not.</p>
<p role="status" data-answer="passed" hidden><strong>Yes.</strong> Apps and resource servers can send tokens in the
<code>Authorization</code> header, as the specifications want.</p>
<p role="status" data-answer="renamed" hidden><strong>Yes, renamed.</strong> The web server passes it on as
<code>REDIRECT_HTTP_AUTHORIZATION</code>; this server reads it from there, so everything works.</p>
<p class="error" role="alert" data-answer="missing" hidden><strong>No.</strong> The web server in front of this one
removes the <code>Authorization</code> header, so apps cannot prove their tokens.</p>
<p class="error" role="alert" data-answer="unreachable" hidden><strong>Your browser could not ask this server</strong>
at its <code>base_url</code>: <span class="detail"></span>. Check that <code>base_url</code> in the configuration is
this server's public address, or run the check above by hand.</p>
<div class="fix">
<p class="by-hand">If it answers <code>missing</code>, the web server in front removes the header:</p>
<p>On Apache (most shared hosts), add to the <code>.htaccess</code> file of this server's folder:</p>
<pre class="snippet"><code>CGIPassAuth On</code></pre>
<p>or, on Apache before 2.4.13:</p>
<pre class="snippet"><code>RewriteEngine On
RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]</code></pre>
<p>Behind nginx, make sure no <code>proxy_set_header Authorization ""</code> is configured. Then
reload this page. Until it is fixed, apps can still send the token as an <code>access_token</code>
form field in a POST body.</p>
</div>
</div>
<h2>Does your profile URL name this server?</h2>
% state, detail = profile
% if state == "hosted":
<p role="status"><strong>Yes.</strong> Your profile is hosted here, on the start page, with the links clients look for.</p>
% elif state == "ok":
<p role="status"><strong>Yes.</strong> <a href="{{user.me}}">{{user.me}}</a> names this server, so clients will send you here.</p>
% else:
% if state == "unreachable":
<p class="error" role="alert"><strong>Could not read</strong> <a href="{{user.me}}">{{user.me}}</a>: {{detail}}.</p>
% elif state == "other":
<p class="error" role="alert"><strong>No:</strong> <a href="{{user.me}}">{{user.me}}</a> names another server ({{detail}}).
Clients will send you there, not here.</p>
% else:
<p class="error" role="alert"><strong>No:</strong> <a href="{{user.me}}">{{user.me}}</a> does not name an IndieAuth
server, so apps cannot sign you in with it.</p>
% end
<p>Put these lines in the <code>&lt;head&gt;</code> of that page:</p>
<pre class="snippet"><code>{{"\n".join(f'<link rel="{rel}" href="{href}">' for rel, href in links)}}</code></pre>
% end
