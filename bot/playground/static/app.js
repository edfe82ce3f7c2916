// 践诺 playground page: a Telegram-like chat over the playground's JSON API (/play/api).
// Plain JavaScript, no build step, no external resources.
"use strict";

(function () {
  const API = "/play/api";
  const MAX_FILE = 20 * 1024 * 1024; // the simulator's limit (sim_state.MAX_FILE_SIZE)

  // ------------------------------------------------------------------ UI text
  const TEXT = {
    zh: {
      title: "践诺 · 演示",
      reset: "重置演示",
      you_are: "当前身份",
      pick_persona: "选择身份",
      switch: "切换",
      local_only: "本机演示，数据只保存在本机",
      menu: "菜单",
      attach: "发送图片或文件",
      placeholder: "输入消息，或输入 / 查看命令",
      send: "发送",
      roster_title: "选择身份",
      cancel: "取消",
      ok: "确定",
      guide:
        "以谁的身份都可以：党员填写承诺，支部书记审核，镇党委工作人员审核支部承诺，群众查看公示。\n" +
        "试一试：① 选「沈红梅」（党员，还没有承诺），发送 /pledge，选「长期承诺」，填写并提交" +
        "（年度承诺只能在公开承诺期内提交）；" +
        "② 切换到「沈宝方」（支部书记），点「通过」；③ 打开「黄思村党总支公示栏」群，看公示；" +
        "④ 选「陈国平」（联点领导），发送 /comment 点评联系的支部。",
      bot_sub: "机器人",
      members: (n) => `${n} 位成员`,
      no_chat: "请在左侧选择一个对话",
      no_persona: "请先选择一个身份。\n每个身份有自己和机器人的私聊，以及所在支部的公示栏群。",
      empty_private: "还没有消息。\n发送 /help 看看能做什么，或点「菜单」。",
      empty_group: "这个群里还没有消息。",
      edited: "已编辑",
      photo: "[图片]",
      document: "[文件]",
      poll: "[投票]",
      contact: "[名片]",
      you: "我",
      colon: "：",
      anonymous_poll: "匿名投票",
      public_poll: "公开投票",
      closed_poll: "投票已结束",
      voters: (n) => `${n} 人已投票`,
      vote: "投票",
      retract: "撤回投票",
      confirm_reset: "重置演示会清除所有对话和改动，恢复最初的演示数据（所有身份都会恢复）。确定重置吗？",
      resetting: "正在重置演示…",
      reset_done: "已恢复演示数据",
      too_big: "文件太大：最大 20 MB",
      failed: "操作失败：",
      too_long: (n, max) => `消息太长：${n} 字，Telegram 一条消息最多 ${max} 字（表情符号算 2 个字）。内容还在输入框里，请删减或分几条发送。`,
      caption_too_long: (n, max) => `说明文字太长：${n} 字，Telegram 最多 ${max} 字。内容还在输入框里，请删减后再发送文件。`,
      offline: "与演示服务器的连接断开，正在重连…",
      commands: "命令",
      link: "链接",
      roles: { member: "党员", secretary: "支部书记", committee: "党委工作人员", leader: "联点领导", resident: "群众代表" },
      org_types: {
        committee: "镇党委", rural: "农村", community: "社区", organ: "机关", soe: "国有企业",
        private: "非公企业", school: "学校", health: "卫生", research: "科研文化", social: "社会组织",
      },
      tags: { cadre: "领导干部", oral: "口头承诺", mobile: (o) => `流动党员 · 来自${o}`, dual: (o) => `在职党员 · 居住地${o}`, post: "设岗定责" },
    },
    en: {
      title: "Jiannuo demo",
      reset: "Reset demo",
      you_are: "You are",
      pick_persona: "Pick a persona",
      switch: "Switch",
      local_only: "Local demo: data stays on this machine",
      menu: "Menu",
      attach: "Send a photo or file",
      placeholder: "Message, or / for commands",
      send: "Send",
      roster_title: "Pick a persona",
      cancel: "Cancel",
      ok: "OK",
      guide:
        "Be anyone: members draft pledges, branch secretaries review them, committee staff review branch pledges, residents read the board.\n" +
        "Try: ① pick 沈红梅 (member, no pledge yet), send /pledge, choose 长期承诺 (long-term), fill it in and submit " +
        "(annual pledges wait for the campaign's pledge window); " +
        "② switch to 沈宝方 (branch secretary) and tap 通过 (approve); ③ open the group 黄思村党总支公示栏 to see it published; " +
        "④ pick 陈国平 (liaison leader) and send /comment to review a linked branch.",
      bot_sub: "bot",
      members: (n) => `${n} members`,
      no_chat: "Pick a chat on the left",
      no_persona: "Pick a persona first.\nEach one has a private chat with the bot and their branch's board group.",
      empty_private: "No messages yet.\nSend /help to see what you can do, or open the menu.",
      empty_group: "No messages in this group yet.",
      edited: "edited",
      photo: "[photo]",
      document: "[file]",
      poll: "[poll]",
      contact: "[contact]",
      you: "You",
      colon: ": ",
      anonymous_poll: "Anonymous poll",
      public_poll: "Public poll",
      closed_poll: "Final results",
      voters: (n) => `${n} voted`,
      vote: "Vote",
      retract: "Retract vote",
      confirm_reset: "Resetting clears every conversation and change and restores the demo district for all personas. Reset?",
      resetting: "Resetting the demo…",
      reset_done: "Demo restored",
      too_big: "File too big: 20 MB at most",
      failed: "Failed: ",
      too_long: (n, max) => `Message too long: ${n} characters; Telegram allows ${max} per message (an emoji counts as 2). Your text is still in the box: shorten it or send it in several messages.`,
      caption_too_long: (n, max) => `Caption too long: ${n} characters; Telegram allows ${max}. Your text is still in the box: shorten it, then send the file.`,
      offline: "Lost the connection to the playground; reconnecting…",
      commands: "Commands",
      link: "link",
      roles: { member: "member", secretary: "branch secretary", committee: "committee staff", leader: "liaison leader", resident: "resident" },
      org_types: {
        committee: "committee", rural: "rural", community: "community", organ: "government organ", soe: "state enterprise",
        private: "private enterprise", school: "school", health: "health", research: "research/culture", social: "social org.",
      },
      tags: { cadre: "cadre", oral: "oral pledge", mobile: (o) => `mobile · from ${o}`, dual: (o) => `in-service · lives in ${o}`, post: "assigned post" },
    },
  };

  // ------------------------------------------------------------------ state
  const store = {
    get(key, fallback) { try { const v = localStorage.getItem("jiannuo." + key); return v === null ? fallback : JSON.parse(v); } catch (e) { return fallback; } },
    set(key, value) { try { localStorage.setItem("jiannuo." + key, JSON.stringify(value)); } catch (e) { /* private mode */ } },
  };
  const state = {
    lang: store.get("lang", "zh"),
    personas: [],
    bot: { name: "践诺", username: "jiannuo_bot" },
    persona: null, // current persona object
    chats: [], // chats of the current persona
    chatId: null,
    commands: [],
    seen: store.get("seen", {}), // persona id -> chat id -> newest message id seen
    chatOf: store.get("chatOf", {}), // persona id -> chat id last open
    rendered: new Map(), // message id -> {el, sig}
    loadSeq: 0,
    menuOpen: false,
    menuFocus: -1,
  };
  const $ = (id) => document.getElementById(id);
  const tr = (key, ...args) => { const v = TEXT[state.lang][key]; return typeof v === "function" ? v(...args) : v; };

  // ------------------------------------------------------------------ API
  async function api(path, options = {}) {
    const response = await fetch(API + path, options);
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok || !body || body.ok === false) {
      const message = body && body.error ? body.error : `HTTP ${response.status}`;
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return body;
  }
  const postJSON = (path, data) => api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });
  const chatPath = () => `/personas/${state.persona.id}/chats/${state.chatId}`;

  // ------------------------------------------------------------------ small helpers
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  const COLORS = ["#e17076", "#7bc862", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774", "#5a8fd6"];
  function avatar(node, name, id, kind) {
    node.textContent = kind === "bot" ? "诺" : (name || "?").slice(0, 1);
    node.className = "avatar" + (kind ? " " + kind : "");
    if (kind !== "bot") node.style.background = COLORS[Math.abs(Number(id) || 0) % COLORS.length];
    else node.style.background = "";
  }
  function clock(unix) {
    const d = new Date(unix * 1000);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }
  function sizeText(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }
  let toastTimer = null;
  function toast(text) {
    const node = $("toast");
    node.textContent = text;
    node.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { node.hidden = true; }, 2800);
  }
  function modal(text, withCancel) {
    return new Promise((resolve) => {
      $("modal-text").textContent = text;
      $("modal-cancel").hidden = !withCancel;
      $("modal").hidden = false;
      const done = (value) => { $("modal").hidden = true; $("modal-ok").onclick = $("modal-cancel").onclick = null; resolve(value); };
      $("modal-ok").onclick = () => done(true);
      $("modal-cancel").onclick = () => done(false);
      $("modal-ok").focus();
    });
  }
  function failed(error) { toast(tr("failed") + error.message); }
  function roleText(p) { return p.role_label && p.role_label[state.lang === "zh" ? "zh_CN" : "en"] || tr("roles")[p.role] || p.role; }

  // ------------------------------------------------------------------ text with entities
  // Telegram entity offsets count UTF-16 code units, which is exactly how JS strings index.
  function renderText(text, entities) {
    const box = el("div", "text");
    if (!text) return box;
    const list = entities || [];
    const cuts = new Set([0, text.length]);
    for (const e of list) { cuts.add(e.offset); cuts.add(Math.min(text.length, e.offset + e.length)); }
    const points = [...cuts].sort((a, b) => a - b);
    for (let i = 0; i < points.length - 1; i++) {
      const start = points[i], end = points[i + 1];
      const piece = text.slice(start, end);
      const active = list.filter((e) => e.offset <= start && e.offset + e.length >= end);
      if (!active.length) { box.appendChild(document.createTextNode(piece)); continue; }
      const link = active.find((e) => e.type === "text_link" || e.type === "url");
      let node;
      if (link) {
        node = el("a", "", piece);
        const href = link.type === "url" ? piece : link.url;
        if (/^(https?:|tg:|mailto:)/i.test(href || "")) node.href = href;
        node.target = "_blank"; node.rel = "noopener noreferrer";
      } else {
        node = el(active.some((e) => e.type === "pre") ? "pre" : active.some((e) => e.type === "code") ? "code" : "span", "", piece);
      }
      const classes = { bold: "b", italic: "i", underline: "u", strikethrough: "s", spoiler: "spoiler", blockquote: "quote", expandable_blockquote: "quote" };
      for (const e of active) if (classes[e.type]) node.classList.add(classes[e.type]);
      box.appendChild(node);
    }
    return box;
  }

  // ------------------------------------------------------------------ roster
  function renderRoster() {
    $("roster-guide").textContent = tr("guide");
    const list = $("roster-list");
    list.replaceChildren();
    const orgs = new Map();
    for (const p of state.personas) {
      if (!orgs.has(p.org.code)) orgs.set(p.org.code, { org: p.org, people: [] });
      orgs.get(p.org.code).people.push(p);
    }
    for (const { org, people } of orgs.values()) {
      const section = el("section", "org");
      const title = el("div", "org-title", org.name);
      title.appendChild(el("small", "", tr("org_types")[org.type] || org.type));
      section.appendChild(title);
      const grid = el("div", "people");
      for (const p of people) {
        const button = el("button", "person" + (state.persona && state.persona.id === p.id ? " current" : ""));
        button.type = "button";
        button.dataset.personaId = p.id;
        button.dataset.name = p.name;
        const face = el("span");
        avatar(face, p.name, p.id);
        const text = el("span", "person-text");
        text.appendChild(el("span", "person-name", p.name));
        text.appendChild(el("span", "person-role", roleText(p)));
        const tags = el("span", "tags");
        const tagText = tr("tags");
        if (p.cadre) tags.appendChild(el("span", "tag cadre", tagText.cadre));
        if (p.oral) tags.appendChild(el("span", "tag oral", tagText.oral));
        if (p.origin_org) tags.appendChild(el("span", "tag mobile", tagText.mobile(p.origin_org)));
        if (p.residence_org) tags.appendChild(el("span", "tag mobile", tagText.dual(p.residence_org)));
        if (p.post) { const tag = el("span", "tag", tagText.post); tag.title = p.post; tags.appendChild(tag); }
        if (tags.childNodes.length) text.appendChild(tags);
        button.append(face, text);
        button.addEventListener("click", () => { closeRoster(); choosePersona(p.id); });
        grid.appendChild(button);
      }
      section.appendChild(grid);
      list.appendChild(section);
    }
  }
  function openRoster() { renderRoster(); $("roster").hidden = false; }
  function closeRoster() { $("roster").hidden = true; }

  async function loadPersonas() {
    const body = await api("/personas");
    state.personas = body.personas;
    state.bot = body.bot;
  }

  async function choosePersona(id) {
    const persona = state.personas.find((p) => p.id === id);
    if (!persona) { state.persona = null; renderMe(); openRoster(); return; }
    state.persona = persona;
    store.set("persona", id);
    renderMe();
    await loadChats();
    const remembered = state.chatOf[id];
    const target = state.chats.find((c) => c.id === remembered) || state.chats[0];
    await openChat(target ? target.id : null);
  }

  function renderMe() {
    const p = state.persona;
    avatar($("persona-avatar"), p ? p.name : "?", p ? p.id : 0);
    $("persona-name").textContent = p ? p.name : tr("pick_persona");
    $("persona-role").textContent = p ? `${roleText(p)} · ${p.org.name}` : "";
    $("composer").classList.toggle("disabled", !p);
  }

  // ------------------------------------------------------------------ chat list
  async function loadChats() {
    if (!state.persona) { state.chats = []; renderChats(); return; }
    const persona = state.persona;
    const body = await api(`/personas/${persona.id}/chats`);
    if (state.persona !== persona) return;
    state.chats = body.chats;
    renderChats();
  }

  function preview(chat) {
    const last = chat.last;
    if (!last) return "";
    const body = last.kind === "text" ? last.text : `${tr(last.kind)} ${last.text || ""}`;
    const who = last.from_me ? tr("you") + tr("colon") : chat.type === "group" && !last.from_bot ? last.sender + tr("colon") : "";
    return (who + body).replace(/\s+/g, " ");
  }

  function renderChats() {
    const list = $("chat-list");
    list.replaceChildren();
    const seen = state.seen[state.persona ? state.persona.id : ""] || {};
    for (const chat of state.chats) {
      const item = el("button", "chat-item" + (chat.id === state.chatId ? " active" : ""));
      item.type = "button";
      item.dataset.chatId = chat.id;
      const face = el("span");
      avatar(face, chat.title, chat.id, chat.type === "private" ? "bot" : "group");
      const text = el("span", "chat-item-text");
      const top = el("span", "chat-item-top");
      top.appendChild(el("span", "chat-item-title", chat.title));
      if (chat.last) top.appendChild(el("span", "chat-time", clock(chat.last.date)));
      const bottom = el("span", "chat-item-bottom");
      bottom.appendChild(el("span", "chat-preview", preview(chat)));
      const unseen = chat.id !== state.chatId && chat.last && !chat.last.from_me && chat.last_id > (seen[chat.id] || 0);
      if (unseen) bottom.appendChild(el("span", "badge", state.lang === "zh" ? "新" : "new"));
      text.append(top, bottom);
      item.append(face, text);
      item.addEventListener("click", () => openChat(chat.id));
      list.appendChild(item);
    }
  }

  function markSeen(chat) {
    if (!state.persona || !chat) return;
    const mine = state.seen[state.persona.id] || (state.seen[state.persona.id] = {});
    mine[chat.id] = chat.last_id;
    store.set("seen", state.seen);
  }

  // ------------------------------------------------------------------ messages
  async function openChat(chatId) {
    state.chatId = chatId;
    state.rendered = new Map();
    $("messages").replaceChildren();
    closeMenu();
    if (state.persona && chatId !== null) {
      state.chatOf[state.persona.id] = chatId;
      store.set("chatOf", state.chatOf);
    }
    document.getElementById("app").classList.toggle("in-chat", chatId !== null);
    renderChats();
    await loadMessages(true);
  }

  async function loadMessages(scrollToEnd) {
    const seq = ++state.loadSeq;
    const messagesBox = $("messages");
    if (!state.persona || state.chatId === null) {
      renderHeader(null);
      showEmpty(state.persona ? tr("no_chat") : tr("no_persona"));
      renderReplyKeyboard(null);
      return;
    }
    let body;
    try { body = await api(chatPath() + "/messages"); } catch (error) {
      if (seq === state.loadSeq) failed(error);
      return;
    }
    if (seq !== state.loadSeq) return; // a newer load (or another chat) won
    const nearEnd = messagesBox.scrollHeight - messagesBox.scrollTop - messagesBox.clientHeight < 120;
    renderHeader(body.chat);
    state.commands = body.commands || [];
    $("menu-button").hidden = state.commands.length === 0;
    const chatIndex = state.chats.findIndex((c) => c.id === body.chat.id);
    if (chatIndex >= 0) state.chats[chatIndex] = body.chat;
    markSeen(body.chat);
    renderChats();
    const grew = renderMessages(body.messages, body.chat);
    renderReplyKeyboard(body.reply_keyboard || null);
    if (scrollToEnd || (grew && nearEnd) || grew === "mine") messagesBox.scrollTop = messagesBox.scrollHeight;
  }

  // The bot's reply keyboard under the chat (e.g. "share my phone number": request_contact).
  function renderReplyKeyboard(rows) {
    let bar = $("reply-keyboard");
    if (!bar) {
      bar = el("div", "reply-keyboard");
      bar.id = "reply-keyboard";
      $("composer").parentNode.insertBefore(bar, $("composer"));
    }
    bar.replaceChildren();
    bar.hidden = !rows || rows.length === 0;
    for (const row of rows || []) {
      const line = el("div", "kb-row");
      for (const button of row) {
        const node = el("button", "kb-button reply-kb-button", button.text);
        node.type = "button";
        node.addEventListener("click", () => (button.request_contact ? shareContact() : sendText(button.text)));
        line.appendChild(node);
      }
      bar.appendChild(line);
    }
  }

  async function shareContact() {
    if (!state.persona || state.chatId === null) return;
    try { await postJSON(chatPath() + "/contact", {}); } catch (error) { failed(error); return; }
    await loadMessages(false);
    $("messages").scrollTop = $("messages").scrollHeight;
  }

  function showEmpty(text) {
    const box = $("messages");
    box.replaceChildren(el("div", "empty", text));
    state.rendered = new Map();
  }

  function renderHeader(chat) {
    if (!chat) {
      $("chat-name").textContent = "";
      $("chat-sub").textContent = "";
      $("chat-avatar").className = "avatar"; $("chat-avatar").textContent = ""; $("chat-avatar").style.background = "transparent";
      return;
    }
    $("chat-name").textContent = chat.title;
    $("chat-sub").textContent = chat.type === "private" ? `${tr("bot_sub")} @${state.bot.username}` : tr("members", chat.members);
    avatar($("chat-avatar"), chat.title, chat.id, chat.type === "private" ? "bot" : "group");
  }

  // Returns false (nothing changed), true (new or edited messages) or "mine" (we sent one).
  function renderMessages(messages, chat) {
    const box = $("messages");
    const empty = box.querySelector(".empty");
    if (!messages.length) {
      showEmpty(chat.type === "private" ? tr("empty_private") : tr("empty_group"));
      return false;
    }
    if (empty) empty.remove();
    const alive = new Set(messages.map((m) => m.id));
    for (const [id, entry] of state.rendered) {
      if (!alive.has(id)) { entry.el.remove(); state.rendered.delete(id); }
    }
    let grew = false;
    for (const message of messages) {
      const sig = JSON.stringify(message);
      const entry = state.rendered.get(message.id);
      if (entry) {
        if (entry.sig !== sig) { // edited in place: the same element, new content
          fillMessage(entry.el, message, chat);
          entry.sig = sig;
          if (!grew) grew = true;
        }
        continue;
      }
      const node = el("div");
      node.dataset.messageId = message.id;
      fillMessage(node, message, chat);
      box.appendChild(node);
      state.rendered.set(message.id, { el: node, sig });
      grew = message.outgoing ? "mine" : true;
    }
    return grew;
  }

  function fillMessage(node, message, chat) {
    node.className = "msg" + (message.outgoing ? " out" : " in") + (message.from_bot ? " from-bot" : "");
    node.dataset.edits = message.edits;
    const bubble = el("div", "bubble");
    if (chat.type === "group" && !message.outgoing) {
      bubble.appendChild(el("div", "sender" + (message.from_bot ? " bot" : ""), message.from_name));
    }
    if (message.reply_to) {
      const quote = el("div", "reply-quote");
      quote.appendChild(el("b", "", message.reply_to.from_name));
      quote.appendChild(el("span", "", message.reply_to.kind === "text" ? message.reply_to.text : `${tr(message.reply_to.kind)} ${message.reply_to.text}`));
      bubble.appendChild(quote);
    }
    if (message.photo) {
      const img = el("img", "photo");
      img.src = message.photo.url;
      img.alt = tr("photo");
      img.loading = "lazy";
      bubble.appendChild(img);
    }
    if (message.document) {
      const doc = el("a", "doc");
      doc.href = message.document.url;
      doc.download = message.document.name;
      doc.appendChild(el("span", "doc-icon", "⇩"));
      const info = el("span");
      info.appendChild(el("div", "doc-name", message.document.name));
      info.appendChild(el("div", "doc-size", sizeText(message.document.size)));
      doc.appendChild(info);
      bubble.appendChild(doc);
    }
    if (message.poll) bubble.appendChild(renderPoll(message));
    if (message.contact) {
      bubble.appendChild(el("div", "text", `📇 ${message.contact.first_name || ""} ${message.contact.last_name || ""}  ${message.contact.phone_number || ""}`));
    }
    const body = message.text !== null ? renderText(message.text, message.entities) : renderText(message.caption || "", message.caption_entities);
    const meta = el("span", "meta");
    if (message.edits > 0) meta.appendChild(el("span", "edited", tr("edited")));
    meta.appendChild(document.createTextNode(clock(message.edit_date || message.date)));
    body.appendChild(meta);
    bubble.appendChild(body);
    node.replaceChildren(bubble);
    if (message.buttons && message.buttons.length) node.appendChild(renderKeyboard(message));
  }

  function renderKeyboard(message) {
    const keyboard = el("div", "keyboard");
    for (const row of message.buttons) {
      const line = el("div", "kb-row");
      for (const button of row) {
        const b = el("button", "kb-button", button.text);
        b.type = "button";
        if (button.url) {
          b.appendChild(el("span", "link-mark", "↗"));
          b.title = button.url;
          b.addEventListener("click", () => { if (/^https?:/i.test(button.url)) window.open(button.url, "_blank", "noopener"); else toast(button.url); });
        } else if (button.data) {
          b.dataset.callback = button.data;
          b.addEventListener("click", () => tap(message.id, button.data, b));
        }
        line.appendChild(b);
      }
      keyboard.appendChild(line);
    }
    return keyboard;
  }

  function renderPoll(message) {
    const poll = message.poll;
    const box = el("div", "poll");
    box.appendChild(el("div", "poll-q", poll.question));
    box.appendChild(el("div", "poll-kind", poll.closed ? tr("closed_poll") : poll.anonymous ? tr("anonymous_poll") : tr("public_poll")));
    const voted = poll.chosen.length > 0;
    if (voted || poll.closed) {
      const total = poll.options.reduce((sum, o) => sum + o.votes, 0) || 1;
      poll.options.forEach((option, index) => {
        const row = el("div", "poll-result" + (poll.chosen.includes(index) ? " mine" : ""));
        const line = el("div", "row");
        const pct = Math.round((option.votes / total) * 100);
        line.append(el("span", "pct", pct + "%"), el("span", "", option.text));
        row.appendChild(line);
        const bar = el("div", "bar");
        bar.style.width = `calc(${pct}% - 46px)`;
        row.appendChild(bar);
        box.appendChild(row);
      });
    } else {
      const picked = new Set();
      const submit = el("button", "", tr("vote"));
      poll.options.forEach((option, index) => {
        const b = el("button", "poll-option");
        b.type = "button";
        b.dataset.option = index;
        const row = el("span", "opt-row");
        row.append(el("span", "circle"), el("span", "", option.text));
        b.appendChild(row);
        b.addEventListener("click", () => {
          if (!poll.multiple) { vote(message.id, [index]); return; }
          if (picked.has(index)) picked.delete(index); else picked.add(index);
          b.classList.toggle("picked", picked.has(index));
        });
        box.appendChild(b);
      });
      if (poll.multiple) {
        submit.type = "button";
        submit.addEventListener("click", () => { if (picked.size) vote(message.id, [...picked]); });
      }
      box.dataset.multiple = poll.multiple ? "1" : "0";
      if (poll.multiple) { const foot = el("div", "poll-foot"); foot.appendChild(submit); box.appendChild(foot); }
    }
    const foot = el("div", "poll-foot");
    foot.appendChild(el("span", "", tr("voters", poll.total)));
    if (voted && !poll.closed) {
      const retract = el("button", "", tr("retract"));
      retract.type = "button";
      retract.addEventListener("click", () => vote(message.id, []));
      foot.appendChild(retract);
    }
    box.appendChild(foot);
    return box;
  }

  // ------------------------------------------------------------------ acting
  async function tap(messageId, data, button) {
    button.classList.add("pending");
    button.disabled = true;
    try {
      const body = await postJSON(chatPath() + "/tap", { message_id: messageId, data });
      if (body.answer && body.answer.text) {
        if (body.answer.show_alert) await modal(body.answer.text, false); else toast(body.answer.text);
      }
    } catch (error) { failed(error); } finally {
      button.classList.remove("pending");
      button.disabled = false;
      loadMessages(false);
    }
  }

  async function vote(messageId, options) {
    try { await postJSON(chatPath() + "/vote", { message_id: messageId, options }); } catch (error) { failed(error); }
    loadMessages(false);
  }

  // Telegram's limits, counted as Telegram counts them: UTF-16 code units, as JS strings are.
  const MAX_TEXT = 4096;
  const MAX_CAPTION = 1024;

  async function sendText(text) {
    if (!state.persona || state.chatId === null || !text.trim()) return false;
    if (text.length > MAX_TEXT) { toast(tr("too_long", text.length, MAX_TEXT)); return false; }
    try {
      await postJSON(chatPath() + "/send", { text });
    } catch (error) { failed(error); return false; }
    await loadMessages(false);
    $("messages").scrollTop = $("messages").scrollHeight;
    return true;
  }

  async function upload(file) {
    if (!state.persona || state.chatId === null || !file) return;
    if (file.size > MAX_FILE) { toast(tr("too_big")); return; }
    const form = new FormData();
    const caption = $("text-input").value.trim();
    if (caption.length > MAX_CAPTION) { toast(tr("caption_too_long", caption.length, MAX_CAPTION)); return; }
    if (caption) form.append("caption", caption);
    form.append("kind", /^image\/(png|jpeg|gif)$/.test(file.type) ? "photo" : "document");
    form.append("file", file, file.name);
    try {
      await api(chatPath() + "/upload", { method: "POST", body: form });
      $("text-input").value = "";
      autoGrow();
    } catch (error) { failed(error); return; }
    await loadMessages(false);
    $("messages").scrollTop = $("messages").scrollHeight;
  }

  async function resetDemo() {
    if (!(await modal(tr("confirm_reset"), true))) return;
    $("busy-text").textContent = tr("resetting");
    $("busy").hidden = false;
    try {
      await api("/reset", { method: "POST" });
      await afterReset();
      toast(tr("reset_done"));
    } catch (error) { failed(error); } finally { $("busy").hidden = true; }
  }

  async function afterReset() {
    state.seen = {};
    store.set("seen", state.seen);
    await loadPersonas();
    if (state.persona) {
      const again = state.personas.find((p) => p.id === state.persona.id);
      state.persona = again || null;
    }
    renderMe();
    if (!$("roster").hidden) renderRoster();
    await loadChats();
    const chat = state.chats.find((c) => c.id === state.chatId) || state.chats[0];
    await openChat(chat ? chat.id : null);
  }

  // ------------------------------------------------------------------ command menu
  function menuItems() {
    const value = $("text-input").value;
    if (state.menuOpen === "typed") {
      const prefix = value.slice(1).toLowerCase();
      return state.commands.filter((c) => c.command.startsWith(prefix));
    }
    return state.commands;
  }
  function renderMenu() {
    const menu = $("command-menu");
    const items = menuItems();
    if (!state.menuOpen || !items.length) { menu.hidden = true; return; }
    menu.replaceChildren(el("div", "menu-title", tr("commands")));
    items.forEach((c, index) => {
      const b = el("button", "command" + (index === state.menuFocus ? " focus" : ""));
      b.type = "button";
      b.dataset.command = c.command;
      b.append(el("b", "", "/" + c.command), el("span", "", c.description));
      b.addEventListener("click", () => runCommand(c.command));
      menu.appendChild(b);
    });
    menu.hidden = false;
  }
  function openMenu(kind) { state.menuOpen = kind; state.menuFocus = -1; renderMenu(); }
  function closeMenu() { state.menuOpen = false; $("command-menu").hidden = true; }
  function runCommand(command) {
    closeMenu();
    $("text-input").value = "";
    autoGrow();
    sendText("/" + command); // a tap on a menu command sends it, as in Telegram
    $("text-input").focus();
  }

  function autoGrow() {
    const input = $("text-input");
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 160) + "px";
  }

  // ------------------------------------------------------------------ live updates
  let events = null;
  function connect() {
    if (events) events.close();
    events = new EventSource(API + "/events");
    events.addEventListener("hello", () => {
      $("live-status").dataset.state = "live";
      $("live-status").title = "";
      refreshAll();
    });
    events.addEventListener("changed", (event) => {
      const data = JSON.parse(event.data);
      if (data.chats.includes(state.chatId)) loadMessages(false);
      loadChats(); // previews, badges, and a group the persona may have joined
    });
    events.addEventListener("menu", () => loadMessages(false));
    events.addEventListener("reset", () => afterReset());
    events.onerror = () => {
      $("live-status").dataset.state = "connecting";
      $("live-status").title = tr("offline");
    };
  }
  async function refreshAll() {
    if (!state.persona) return;
    await loadChats();
    await loadMessages(false);
  }

  // ------------------------------------------------------------------ language
  function applyLanguage() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.title = tr("title");
    for (const node of document.querySelectorAll("[data-i18n]")) {
      if (node.id === "persona-name" && state.persona) continue;
      node.textContent = tr(node.dataset.i18n);
    }
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = tr(node.dataset.i18nPlaceholder);
    for (const node of document.querySelectorAll("[data-i18n-title]")) node.title = tr(node.dataset.i18nTitle);
    $("lang-toggle").textContent = state.lang === "zh" ? "EN" : "中文";
    renderMe();
    renderChats();
    if (!$("roster").hidden) renderRoster();
    for (const entry of state.rendered.values()) entry.sig = ""; // re-render in the new language
    if (state.persona) loadMessages(false); else showEmpty(tr("no_persona"));
    const current = state.chats.find((c) => c.id === state.chatId);
    renderHeader(current || null);
  }

  // ------------------------------------------------------------------ wiring
  function wire() {
    $("persona-button").addEventListener("click", openRoster);
    $("roster-close").addEventListener("click", closeRoster);
    $("roster").addEventListener("click", (event) => { if (event.target === $("roster") && state.persona) closeRoster(); });
    $("reset-button").addEventListener("click", resetDemo);
    $("lang-toggle").addEventListener("click", () => { state.lang = state.lang === "zh" ? "en" : "zh"; store.set("lang", state.lang); applyLanguage(); });
    $("back-button").addEventListener("click", () => document.getElementById("app").classList.remove("in-chat"));
    $("menu-button").addEventListener("click", () => (state.menuOpen ? closeMenu() : openMenu("button")));
    $("attach-button").addEventListener("click", () => $("file-input").click());
    $("file-input").addEventListener("change", () => {
      const file = $("file-input").files[0];
      $("file-input").value = "";
      upload(file);
    });
    const input = $("text-input");
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value;
      if (!text.trim()) return;
      if (text.length > MAX_TEXT) { toast(tr("too_long", text.length, MAX_TEXT)); return; } // the draft stays
      input.value = "";
      autoGrow();
      closeMenu();
      // Refused on the way: give the person their text back (unless they typed on meanwhile).
      sendText(text).then((sent) => { if (!sent && !input.value) { input.value = text; autoGrow(); } });
    });
    input.addEventListener("input", () => {
      autoGrow();
      if (/^\/\w*$/.test(input.value) && state.commands.length) openMenu("typed");
      else if (state.menuOpen === "typed") closeMenu();
    });
    input.addEventListener("keydown", (event) => {
      if (state.menuOpen && !$("command-menu").hidden) {
        const items = menuItems();
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          const step = event.key === "ArrowDown" ? 1 : -1;
          state.menuFocus = (state.menuFocus + step + items.length) % items.length;
          renderMenu();
          return;
        }
        if (event.key === "Escape") { closeMenu(); return; }
        if ((event.key === "Enter" || event.key === "Tab") && state.menuFocus >= 0) {
          event.preventDefault();
          runCommand(items[state.menuFocus].command);
          return;
        }
      }
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("composer").requestSubmit();
      }
    });
    document.addEventListener("click", (event) => {
      if (state.menuOpen && !event.target.closest("#command-menu") && !event.target.closest("#menu-button")) closeMenu();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !$("roster").hidden && state.persona) closeRoster();
    });
  }

  async function main() {
    wire();
    applyLanguage();
    try { await loadPersonas(); } catch (error) { failed(error); return; }
    const saved = store.get("persona", null);
    const fromHash = Number(new URLSearchParams(location.hash.slice(1)).get("persona"));
    const wanted = state.personas.find((p) => p.id === fromHash) || state.personas.find((p) => p.id === saved);
    if (wanted) await choosePersona(wanted.id); else { renderMe(); showEmpty(tr("no_persona")); openRoster(); }
    connect();
  }

  main();
})();
