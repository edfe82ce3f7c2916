"""Suggested pledge topics by branch type and pledger kind (seed 002, pieces 1, 4 and 6).

Keys are ``topic.<org type>.<branch|member>.<slug>``; ``general`` serves committees. Each topic
is kept short (at most 40 Chinese characters) so that it can be used as an item's content.
"""

_TOPICS: dict[str, tuple[str, str]] = {
    # 农村: 落实惠农政策、带领群众致富、培养新型农民、培育文明乡风、维护农村稳定
    "topic.rural.branch.policy": (
        "落实惠农政策，确保各项补贴及时足额发放到户",
        "Carry out farm-support policies; pay every subsidy to households in full and on time",
    ),
    "topic.rural.branch.income": (
        "带领群众增收致富，发展一项特色产业",
        "Lead villagers to higher incomes by developing one local speciality industry",
    ),
    "topic.rural.branch.economy": (
        "发展壮大村级集体经济，增加村集体收入",
        "Grow the village collective economy and raise its income",
    ),
    "topic.rural.branch.farmers": (
        "培养新型农民，组织农业实用技术培训",
        "Train new-type farmers with practical farming-skills courses",
    ),
    "topic.rural.branch.civility": (
        "培育文明乡风，推动移风易俗",
        "Foster a civil village culture and reform outdated customs",
    ),
    "topic.rural.branch.stability": (
        "维护农村稳定，及时调解矛盾纠纷",
        "Keep the village stable and settle disputes promptly",
    ),
    # 农村党员: 增强致富带富能力、服务农民群众、弘扬新风正气、参与公益事业; 三老党员发挥余热
    "topic.rural.member.wealth": (
        "增强致富带富能力，带头发展一个增收项目",
        "Build my ability to prosper by starting one income-raising project",
    ),
    "topic.rural.member.poverty": (
        "扶贫帮困，结对帮扶一户困难群众",
        "Pair up with one household in difficulty and help it",
    ),
    "topic.rural.member.serve": (
        "服务农民群众，为乡亲帮办代办实事",
        "Serve fellow villagers by running errands and paperwork for them",
    ),
    "topic.rural.member.public": (
        "积极参与修路、环境整治等公益事业",
        "Take part in public works such as road repairs and village clean-ups",
    ),
    "topic.rural.member.customs": (
        "弘扬新风正气，带头移风易俗、婚丧事简办",
        "Set an example of new customs: simple weddings and funerals",
    ),
    "topic.rural.member.mediate": (
        "发挥余热，帮助调解邻里纠纷",
        "Use my experience to help settle disputes between neighbours",
    ),
    # 社区: 服务群众、凝聚人心、推动发展、维护稳定
    "topic.community.branch.serve": (
        "服务群众，每季度为居民办好一件实事",
        "Serve residents: complete one practical project for them every quarter",
    ),
    "topic.community.branch.unite": (
        "凝聚人心，经常开展邻里文化活动",
        "Bring people together with regular neighbourhood cultural activities",
    ),
    "topic.community.branch.facilities": (
        "完善社区服务设施，改善居民生活环境",
        "Improve community facilities and residents' living environment",
    ),
    "topic.community.branch.stability": (
        "维护社区稳定，及时化解矛盾纠纷",
        "Keep the community stable and resolve disputes promptly",
    ),
    "topic.community.branch.care": (
        "关爱困难群体，定期走访独居老人和困难家庭",
        "Visit elderly people living alone and families in difficulty regularly",
    ),
    # 社区党员: 提高服务水平、维护群众利益、化解社会矛盾、参与文明创建和志愿服务
    "topic.community.member.service": (
        "提高服务水平，热情接待居民来访",
        "Improve my service and welcome residents warmly",
    ),
    "topic.community.member.interests": (
        "维护居民利益，及时反映居民诉求",
        "Protect residents' interests and pass on their requests promptly",
    ),
    "topic.community.member.mediate": (
        "化解矛盾纠纷，参与邻里调解",
        "Help resolve disputes by taking part in neighbourhood mediation",
    ),
    "topic.community.member.civility": (
        "参与文明创建，带头维护楼道和小区环境",
        "Join civility campaigns and keep stairwells and the estate tidy",
    ),
    "topic.community.member.volunteer": (
        "参加志愿服务，每月至少参加一次社区志愿活动",
        "Volunteer in a community activity at least once a month",
    ),
    # 机关: 服务中心、建设队伍，改进作风、提高效能，服务群众、改善民生
    "topic.organ.branch.centre": (
        "服务中心工作，按期完成年度重点任务",
        "Serve the central work and complete the year's key tasks on schedule",
    ),
    "topic.organ.branch.team": (
        "加强干部队伍建设，坚持每月集中学习",
        "Build a strong team with group study every month",
    ),
    "topic.organ.branch.style": (
        "改进工作作风，提高办事效能",
        "Improve our work style and efficiency",
    ),
    "topic.organ.branch.window": (
        "优化服务环境，提升窗口服务质量",
        "Improve the service environment and the quality of front-desk service",
    ),
    "topic.organ.branch.livelihood": (
        "服务群众、改善民生，为群众办好实事",
        "Serve the public and improve livelihoods through practical projects",
    ),
    # 机关党员: 带头学习、提升能力，改革创新、推动发展，认真履职、服务群众，遵纪守法、勤政廉政
    "topic.organ.member.study": (
        "带头学习，提升履职能力",
        "Lead in study and improve my competence in my post",
    ),
    "topic.organ.member.innovate": (
        "改革创新，推动本职工作发展",
        "Innovate to move my own work forward",
    ),
    "topic.organ.member.duty": (
        "认真履职，热情服务群众、限时办结",
        "Do my duty diligently; serve the public warmly and within set time limits",
    ),
    "topic.organ.member.integrity": (
        "遵纪守法，勤政廉政",
        "Obey law and discipline; work diligently and honestly",
    ),
    "topic.organ.member.example": (
        "讲党性、重品行、作表率",
        "Uphold Party spirit and good conduct, and set an example",
    ),
    # 国有企业: 参与决策、带头执行、有效监督, 思想政治工作, 队伍建设, 促进改革发展
    "topic.soe.branch.decisions": (
        "参与重大决策，带头执行、有效监督",
        "Take part in major decisions, lead their implementation and supervise them",
    ),
    "topic.soe.branch.ideology": (
        "加强职工思想政治工作",
        "Strengthen ideological and political work among the staff",
    ),
    "topic.soe.branch.teams": (
        "加强经营管理者、人才和职工队伍建设",
        "Build up the management, specialist and workforce teams",
    ),
    "topic.soe.branch.reform": (
        "促进企业改革发展，实现增产增效",
        "Promote the company's reform and growth; raise output and efficiency",
    ),
    "topic.soe.branch.responsibility": (
        "履行社会责任，服务地方发展",
        "Fulfil social responsibility and serve local development",
    ),
    # 国企职工党员: 投身改革、提高技能，攻坚克难、节能降耗，凝聚职工、团结群众
    "topic.soe.member.skills": (
        "投身改革，提高岗位技能",
        "Take an active part in reform and improve my job skills",
    ),
    "topic.soe.member.tackle": (
        "攻坚克难，完成生产经营任务",
        "Tackle hard problems and meet production and business targets",
    ),
    "topic.soe.member.energy": (
        "节能降耗，降低生产成本",
        "Save energy, cut consumption and lower production costs",
    ),
    "topic.soe.member.unite": (
        "凝聚职工、团结群众",
        "Bring colleagues together and unite the workforce",
    ),
    "topic.soe.member.clean": (
        "遵守纪律，自觉廉洁从业",
        "Follow the rules and work with integrity",
    ),
    # 非公企业: 贯彻方针政策、引导守法、团结凝聚职工、维护合法权益、促进健康发展
    "topic.private.branch.policy": (
        "宣传贯彻党的方针政策，引导企业守法经营",
        "Promote the Party's policies and guide the company to operate lawfully",
    ),
    "topic.private.branch.unite": (
        "团结凝聚职工群众，关心职工生活",
        "Unite the employees and care about their lives",
    ),
    "topic.private.branch.rights": (
        "维护企业和职工的合法权益",
        "Protect the lawful rights of both the company and its employees",
    ),
    "topic.private.branch.growth": (
        "促进企业健康发展",
        "Promote the company's healthy growth",
    ),
    "topic.private.branch.society": (
        "引导企业履行社会责任、奉献爱心",
        "Guide the company to fulfil its social responsibility and give to charity",
    ),
    # 非公企业党员: 技术攻关、节能减耗、市场开拓、安全生产、产品质量、奉献爱心
    "topic.private.member.tech": (
        "开展技术攻关，解决一项生产难题",
        "Work on one technical problem in production and solve it",
    ),
    "topic.private.member.energy": (
        "节能减耗，降低生产成本",
        "Save energy, reduce consumption and lower costs",
    ),
    "topic.private.member.market": (
        "开拓市场，提升企业效益",
        "Open up new markets to improve business results",
    ),
    "topic.private.member.safety": (
        "强化安全生产，做到全年无事故",
        "Strengthen work safety: no accidents all year",
    ),
    "topic.private.member.quality": (
        "提高产品质量，降低不良品率",
        "Raise product quality and reduce the defect rate",
    ),
    "topic.private.member.charity": (
        "奉献爱心，参加公益捐助活动",
        "Give to others by joining charity and donation drives",
    ),
    # 学校: 贯彻教育方针、师德师风、思想政治工作、办学质量、办人民满意学校、服务地方
    "topic.school.branch.policy": (
        "贯彻党的教育方针，推进教育改革",
        "Carry out the Party's education policy and advance education reform",
    ),
    "topic.school.branch.ethics": (
        "加强师德师风建设",
        "Strengthen teachers' ethics and conduct",
    ),
    "topic.school.branch.ideology": (
        "加强师生思想政治工作",
        "Strengthen ideological and political work with teachers and students",
    ),
    "topic.school.branch.quality": (
        "提高办学质量，培养合格人才",
        "Raise the quality of schooling and educate capable students",
    ),
    "topic.school.branch.satisfied": (
        "办人民满意学校，畅通家校沟通渠道",
        "Run a school people are satisfied with; keep home–school communication open",
    ),
    # 教职工党员: 爱岗敬业、廉洁从教、为人师表，关爱学生、做好教育教学工作
    "topic.school.member.dedication": (
        "爱岗敬业，认真上好每一节课",
        "Love my job and prepare every lesson carefully",
    ),
    "topic.school.member.clean": (
        "廉洁从教，不搞有偿补课",
        "Teach with integrity: no paid private tutoring",
    ),
    "topic.school.member.model": (
        "为人师表，言传身教",
        "Be a role model in word and deed",
    ),
    "topic.school.member.care": (
        "关爱学生，结对帮扶学习困难的学生",
        "Care for students and mentor those who struggle",
    ),
    "topic.school.member.teaching": (
        "做好教育教学工作，提高教学质量",
        "Do my teaching well and raise its quality",
    ),
    # 医疗卫生: 落实医改任务、提高服务水平、加强医德医风、促进医患和谐
    "topic.health.branch.reform": (
        "落实医改任务，方便群众就近看病",
        "Carry out the health-care reform so people can see a doctor close to home",
    ),
    "topic.health.branch.service": (
        "提高医疗服务水平，缩短群众看病等候时间",
        "Raise the quality of care and shorten patients' waiting times",
    ),
    "topic.health.branch.ethics": (
        "加强医德医风建设",
        "Strengthen medical ethics and conduct",
    ),
    "topic.health.branch.harmony": (
        "促进医患和谐，及时处理患者意见",
        "Build good doctor–patient relations and deal with complaints promptly",
    ),
    "topic.health.branch.norms": (
        "规范服务行为，提升服务效能",
        "Standardise service conduct and improve efficiency",
    ),
    # 卫生党员: 爱岗敬业、刻苦钻研、锐意创新、优质服务
    "topic.health.member.dedication": (
        "爱岗敬业，热情接待每一位患者",
        "Love my job and treat every patient warmly",
    ),
    "topic.health.member.study": (
        "刻苦钻研，提高诊疗技术",
        "Study hard to improve my clinical skills",
    ),
    "topic.health.member.innovate": (
        "锐意创新，改进服务流程",
        "Innovate to improve how we serve patients",
    ),
    "topic.health.member.quality": (
        "提供优质服务，做到廉洁行医",
        "Provide high-quality care and practise medicine honestly",
    ),
    "topic.health.member.outreach": (
        "参加义诊和健康知识宣传",
        "Join free clinics and health-education activities",
    ),
    # 科研、文化: 自主创新、培育科研人才、提升科研水平; 服务基层群众、繁荣先进文化
    "topic.research.branch.innovation": (
        "推动自主创新，提升科研水平",
        "Promote independent innovation and raise research standards",
    ),
    "topic.research.branch.talent": (
        "培育科研人才，带好青年骨干",
        "Develop research talent and mentor young staff",
    ),
    "topic.research.branch.grassroots": (
        "服务基层群众，开展科技文化下乡",
        "Serve people at the grassroots by bringing science and culture to villages",
    ),
    "topic.research.branch.culture": (
        "繁荣先进文化，丰富群众文化生活",
        "Promote advanced culture and enrich people's cultural life",
    ),
    "topic.research.branch.norms": (
        "做好思想政治工作，规范服务行为",
        "Do ideological work well and standardise service conduct",
    ),
    # 科研、文化党员: 爱岗敬业、刻苦钻研、锐意创新、优质服务
    "topic.research.member.dedication": (
        "爱岗敬业，按时完成本职任务",
        "Love my job and complete my tasks on time",
    ),
    "topic.research.member.study": (
        "刻苦钻研，承担一项课题或业务攻关",
        "Study hard and take on one research project or technical challenge",
    ),
    "topic.research.member.innovate": (
        "锐意创新，形成一项工作成果",
        "Innovate and produce one concrete result",
    ),
    "topic.research.member.service": (
        "优质服务，热情为群众提供科技或文化服务",
        "Give good service by offering scientific or cultural help to the public",
    ),
    "topic.research.member.rigour": (
        "恪守科研诚信，严谨治学",
        "Keep to research integrity and work rigorously",
    ),
    # 社会组织: 贯彻方针政策、引导遵守法律法规、团结凝聚职工、维护权益、健康发展
    "topic.social.branch.policy": (
        "贯彻党的方针政策，引导依法依规开展活动",
        "Carry out Party policies and guide the organisation to act lawfully",
    ),
    "topic.social.branch.unite": (
        "团结凝聚从业人员",
        "Unite the staff and practitioners",
    ),
    "topic.social.branch.rights": (
        "维护各方合法权益",
        "Protect the lawful rights of all parties",
    ),
    "topic.social.branch.growth": (
        "促进社会组织健康发展",
        "Promote the organisation's healthy development",
    ),
    "topic.social.branch.public": (
        "组织开展公益服务活动",
        "Organise public-benefit service activities",
    ),
    # 社会组织党员: 提高执业本领、提供优质服务，依法诚信执业、促进社会和谐
    "topic.social.member.skills": (
        "提高执业本领，积极参加业务培训",
        "Improve my professional skills through training",
    ),
    "topic.social.member.service": (
        "提供优质服务，认真对待每一位服务对象",
        "Provide good service and treat every client with care",
    ),
    "topic.social.member.honest": (
        "依法诚信执业",
        "Practise lawfully and honestly",
    ),
    "topic.social.member.harmony": (
        "促进社会和谐，参与矛盾调解",
        "Promote social harmony and help mediate disputes",
    ),
    "topic.social.member.public": (
        "参加公益活动，奉献爱心",
        "Join public-benefit activities and give to others",
    ),
    # 党委/工委 and anything general: 五个好 for the organisation, 五带头 for members
    "topic.general.branch.centre": (
        "围绕中心工作，按期完成年度重点任务",
        "Focus on the central work and complete the year's key tasks on schedule",
    ),
    "topic.general.branch.leadership": (
        "加强领导班子建设，坚持民主集中制",
        "Strengthen the leadership team and practise democratic centralism",
    ),
    "topic.general.branch.team": (
        "加强党员队伍建设，按时过好组织生活",
        "Build up the membership and hold Party meetings regularly and on time",
    ),
    "topic.general.branch.mechanism": (
        "健全工作机制，坚持“一诺三评三公开”",
        "Improve working mechanisms: pledge, evaluate and disclose openly",
    ),
    "topic.general.branch.serve": (
        "服务群众，每年为群众办好几件实事",
        "Serve the people by completing several practical projects each year",
    ),
    "topic.general.branch.listen": (
        "广泛征求群众意见，及时回应群众关切",
        "Ask residents for their views and respond to their concerns promptly",
    ),
    "topic.general.member.study": (
        "带头学习党的理论，提高履职能力",
        "Lead in studying the Party's theory and improve my competence",
    ),
    "topic.general.member.excellence": (
        "带头争创佳绩，立足岗位做出实绩",
        "Lead in excellence by achieving solid results in my post",
    ),
    "topic.general.member.serve": (
        "带头服务群众，每年为群众办几件实事好事",
        "Lead in serving the people: do several good deeds for them each year",
    ),
    "topic.general.member.discipline": (
        "带头遵纪守法，廉洁自律",
        "Lead in obeying law and discipline; stay honest and self-disciplined",
    ),
    "topic.general.member.integrity": (
        "带头弘扬正气，抵制不良风气",
        "Lead in upholding integrity and resist unhealthy practices",
    ),
}

ZH: dict[str, str] = {key: zh for key, (zh, _) in _TOPICS.items()}
EN: dict[str, str] = {key: en for key, (_, en) in _TOPICS.items()}
