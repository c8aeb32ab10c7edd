% rebase('base.tpl', title=title, scripts=scripts)
<noscript><meta http-equiv="refresh" content="2"></noscript>
<h1>Approve the sign-in on your phone</h1>
<div id="okta-wait" data-status="{{status_url}}">
  % if number is not None:
  <p>Okta Verify has sent a push to your phone. Open it and tap the number
     <strong id="okta-number">{{number}}</strong>.</p>
  % else:
  <p>Okta Verify has sent a push to your phone. Open it and tap <strong>Yes, it's me</strong>.</p>
  % end
  <p role="status">Waiting for your answer. This page moves on by itself.</p>
</div>
<p><a href="{{here}}">Check now</a> · <a href="{{start}}">Start again</a></p>
