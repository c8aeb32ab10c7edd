% rebase('base.tpl', title=title)
<h1>Your profile</h1>
<p>Shown at <a href="/u/{{person.username}}">/u/{{person.username}}</a> when that is your profile URL, and given
to apps you allow to see your profile.</p>
% if error:
<p class="error" role="alert">{{error}}</p>
% end
<form id="profile" method="post" action="/u/{{person.username}}/edit">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <label for="name">Name</label>
  <input type="text" id="name" name="name" value="{{values['name']}}" autocomplete="name">
  <label for="url">Website</label>
  <input type="url" id="url" name="url" value="{{values['url']}}" autocomplete="url">
  <label for="photo">Photo (address of an image)</label>
  <input type="url" id="photo" name="photo" value="{{values['photo']}}" autocomplete="photo">
  <label for="email">Email (given only to apps you allow to see it)</label>
  <input type="email" id="email" name="email" value="{{values['email']}}" autocomplete="email">
  <label for="note">About you</label>
  <textarea id="note" name="note" rows="3">{{values['note']}}</textarea>
  <button type="submit">Save</button>
</form>
